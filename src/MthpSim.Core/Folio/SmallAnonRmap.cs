using MthpSim.Core.Host;

namespace MthpSim.Core.Folio;

/// <summary>
/// folio->mapping and folio->index of order-0 anonymous folios (large folios keep theirs in
/// <see cref="LargeFolioInfo"/>): the anon_vma and the linear page index that let the rmap walk find
/// every PTE mapping a page, as reclaim must. Kept only where reclaim can swap; host memory is
/// committed only where touched.
/// </summary>
public sealed unsafe class SmallAnonRmap
{
    readonly LazyHostMemory _memory;
    readonly int* _anonVma;
    readonly long* _index;

    public SmallAnonRmap(long totalPages)
    {
        long ints = (totalPages * sizeof(int) + 4095) & ~4095L;
        _memory = new LazyHostMemory(ints + totalPages * sizeof(long));
        _anonVma = (int*)_memory.Pointer;
        _index = (long*)(_memory.Pointer + ints);
    }

    /// <summary>The folio's anon_vma (0: none yet, as for a page read into the swap cache and not mapped).</summary>
    public int AnonVma(int pfn) { int a = _anonVma[pfn]; GC.KeepAlive(this); return a; }
    public long Index(int pfn) { long i = _index[pfn]; GC.KeepAlive(this); return i; }

    internal void Set(int pfn, int anonVma, long index)
    {
        _anonVma[pfn] = anonVma;
        _index[pfn] = index;
        GC.KeepAlive(this);
    }

    internal void Clear(int pfn) => Set(pfn, 0, 0);
}
