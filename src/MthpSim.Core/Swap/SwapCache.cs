using MthpSim.Core.Host;

namespace MthpSim.Core.Swap;

/// <summary>
/// The swap cache's per-folio half, by head PFN: folio->swap (its first slot, which also stands for
/// PG_swapcache) and PG_readahead, in host memory committed only where touched. The slot-to-folio
/// half is on the <see cref="SwapDevice"/>.
/// </summary>
public sealed unsafe class SwapCache
{
    const uint ReadaheadBit = 1u << 31;
    readonly LazyHostMemory _memory;
    readonly uint* _swapOf;

    /// <summary>Pages the swap cache holds (NR_SWAPCACHE, shown as SwapCached).</summary>
    public long Pages { get; private set; }

    public SwapCache(long totalPages)
    {
        _memory = new LazyHostMemory(totalPages * sizeof(uint));
        _swapOf = (uint*)_memory.Pointer;
    }

    /// <summary>folio_test_swapcache()</summary>
    public bool Contains(int head) { bool b = _swapOf[head] != 0; GC.KeepAlive(this); return b; }

    /// <summary>swp_offset(folio->swap): the folio's first slot (0 when not in the swap cache).</summary>
    public int OffsetOf(int head) { int o = (int)(_swapOf[head] & ~ReadaheadBit); GC.KeepAlive(this); return o; }

    internal void Add(int head, int offset, int nr)
    {
        _swapOf[head] = (uint)offset;
        Pages += nr;
        GC.KeepAlive(this);
    }

    internal void Remove(int head, int nr)
    {
        _swapOf[head] = 0;
        Pages -= nr;
        GC.KeepAlive(this);
    }

    /// <summary>A migrated folio takes its old copy's place: the same slots, the same read-ahead mark.</summary>
    internal void Move(int old, int @new)
    {
        _swapOf[@new] = _swapOf[old];
        _swapOf[old] = 0;
        GC.KeepAlive(this);
    }

    /// <summary>folio_set_readahead(): the folio was read ahead of any fault.</summary>
    internal void SetReadahead(int head) { _swapOf[head] |= ReadaheadBit; GC.KeepAlive(this); }

    /// <summary>folio_test_clear_readahead()</summary>
    internal bool TestClearReadahead(int head)
    {
        bool was = (_swapOf[head] & ReadaheadBit) != 0;
        _swapOf[head] &= ~ReadaheadBit;
        GC.KeepAlive(this);
        return was;
    }
}
