using MthpSim.Core.Folio;

namespace MthpSim.Core.PageAlloc;

/// <summary>
/// The buddy allocator (mm/page_alloc.c) over the machine's page frames: one free list per order,
/// splitting on allocation (expand()) and coalescing with the buddy on free (__free_one_page()).
/// Memory above <see cref="_frontier"/> has never been handed out and is free in max-order blocks
/// without per-page state, so host memory grows with what the simulation touches.
/// Free lists are stacks with lazy deletion: an entry is valid only while its PFN is still a free
/// head of that order; merged or reallocated blocks leave stale entries that are skipped.
/// Allocation is deterministic (last freed, first reused; fresh memory in ascending PFN order).
/// </summary>
public sealed class BuddyAllocator
{
    readonly MemMap _map;
    readonly int _maxOrder;
    readonly List<int>[] _lists;
    readonly long[] _nrFree;
    long _frontier;

    public long TotalPages { get; }
    long _listFree;
    /// <summary>Free pages: blocks on the free lists plus memory never handed out.</summary>
    public long FreePages => _listFree + (TotalPages - _frontier);
    public int MaxOrder => _maxOrder;

    public BuddyAllocator(MemMap map, int maxOrder)
    {
        _map = map;
        _maxOrder = maxOrder;
        TotalPages = map.TotalPages;
        _lists = new List<int>[maxOrder + 1];
        _nrFree = new long[maxOrder + 1];
        for (int i = 0; i <= maxOrder; i++) _lists[i] = new List<int>();
    }

    /// <summary>Number of free blocks of exactly this order (free_area[order].nr_free), fresh memory excluded.</summary>
    public long NrFree(int order) => _nrFree[order];
    /// <summary>
    /// Free blocks of exactly this order as /proc/buddyinfo counts them: the free list's plus the
    /// blocks of that order the never-touched memory above the frontier would be handed out as.
    /// </summary>
    public long NrFreeWithFresh(int order)
    {
        long n = _nrFree[order];
        for (long pos = _frontier; pos < TotalPages;)
        {
            int o = FreshBlockOrderAt(pos);
            long blocks = o == _maxOrder ? (TotalPages - pos) >> o : 1;   // whole max-order blocks, then a ragged end
            if (o == order) n += blocks;
            pos += blocks << o;
        }
        return n;
    }

    /// <summary>PFNs below this have per-page state; above it everything is free and untouched.</summary>
    public long Frontier => _frontier;

    /// <summary>models __rmqueue_smallest(): returns the first PFN of a 2^order block, or -1 when none is free.</summary>
    public int Alloc(int order)
    {
        if (order > _maxOrder) return -1;
        for (int o = order; o <= _maxOrder; o++)
        {
            int pfn = PopValid(o);
            if (pfn >= 0) return Expand(pfn, o, order);
        }
        while (_frontier < TotalPages)
        {
            int o = FreshBlockOrder();
            int pfn = (int)_frontier;
            _frontier += 1L << o;
            _map.EnsureCapacity(_frontier);
            if (o >= order) return Expand(pfn, o, order);
            PushFree(pfn, o);   // a ragged end of memory smaller than the request
        }
        return -1;
    }

    int FreshBlockOrder() => FreshBlockOrderAt(_frontier);

    /// <summary>The largest block that starts at POS, is aligned to its size and ends inside memory.</summary>
    int FreshBlockOrderAt(long pos)
    {
        int o = _maxOrder;
        while (o > 0 && ((pos & ((1L << o) - 1)) != 0 || pos + (1L << o) > TotalPages)) o--;
        return o;
    }

    int PopValid(int order)
    {
        var list = _lists[order];
        while (list.Count > 0)
        {
            int pfn = list[^1];
            list.RemoveAt(list.Count - 1);
            if (IsFreeHead(pfn, order))
            {
                _map.SetFreeTail(pfn);
                _nrFree[order]--;
                _listFree -= 1L << order;
                return pfn;
            }
        }
        return -1;
    }

    bool IsFreeHead(int pfn, int order) => _map.IsFreeHead(pfn, order);

    /// <summary>models expand(): hands out the low half, returns the high halves to the free lists.</summary>
    int Expand(int pfn, int high, int low)
    {
        while (high > low)
        {
            high--;
            PushFree(pfn + (1 << high), high);
        }
        return pfn;
    }

    void PushFree(int pfn, int order)
    {
        _map.SetFreeHead(pfn, order);
        _lists[order].Add(pfn);
        _nrFree[order]++;
        _listFree += 1L << order;
        if (_lists[order].Count > 2 * _nrFree[order] + 1024) Compact(order);
    }

    /// <summary>models __free_one_page(): coalesces with free buddies up to the max order.</summary>
    public void Free(int pfn, int order)
    {
        int end = pfn + (1 << order);
        _map.SetFreeTails(pfn, end - pfn);
        while (order < _maxOrder)
        {
            int buddy = pfn ^ (1 << order);
            if (buddy + (1L << order) > _frontier || !IsFreeHead(buddy, order)) break;
            _map.SetFreeTail(buddy);   // its list entry is now stale
            _nrFree[order]--;
            _listFree -= 1L << order;
            pfn = Math.Min(pfn, buddy);
            order++;
        }
        PushFree(pfn, order);
    }

    void Compact(int order)
    {
        var list = _lists[order];
        int w = 0;
        for (int r = 0; r < list.Count; r++)
        {
            int pfn = list[r];
            if (!IsFreeHead(pfn, order) || _map.Test(pfn, PageFlags.Seen)) continue;
            _map.Set(pfn, PageFlags.Seen);
            list[w++] = pfn;
        }
        list.RemoveRange(w, list.Count - w);
        foreach (int pfn in list) _map.Clear(pfn, PageFlags.Seen);
    }

    /// <summary>The free list of one order as it stands, stale entries included (the invariant checker walks it without allocating).</summary>
    internal ReadOnlySpan<int> FreeList(int order) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_lists[order]);

    /// <summary>
    /// Walks every free block (for the invariant checker): each valid list entry once, in list order,
    /// plus the untouched memory above the frontier.
    /// </summary>
    public IEnumerable<(int Pfn, int Order)> FreeBlocks()
    {
        for (int o = 0; o <= _maxOrder; o++)
        {
            var seen = new HashSet<int>();
            foreach (int pfn in _lists[o])
                if (IsFreeHead(pfn, o) && seen.Add(pfn)) yield return (pfn, o);
        }
    }
}
