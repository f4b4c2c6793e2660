using MthpSim.Core.Folio;

namespace MthpSim.Core.PageAlloc;

/// <summary>
/// The buddy allocator (mm/page_alloc.c) over the machine's page frames: free lists per order and
/// migratetype, splitting on allocation (expand()) and coalescing with the buddy on free
/// (__free_one_page()). Every pageblock has a migratetype (all movable at boot) and a free block is
/// always on the list of its pageblock's type, as in 6.18; an allocation that finds its own lists
/// empty claims or steals from other types (__rmqueue_claim(), __rmqueue_steal()).
/// Memory above <see cref="_frontier"/> has never been handed out and is free in max-order movable
/// blocks without per-page state, so host memory grows with what the simulation touches; it stands
/// at the tail of the max-order movable list, as boot frees memory there in ascending order.
/// Free lists are stacks with lazy deletion: an entry is valid only while its PFN is still a free
/// head of that order in a pageblock of that type; merged, reallocated or moved blocks leave stale
/// entries that are skipped.
/// Allocation is deterministic (last freed, first reused; fresh memory in ascending PFN order).
/// The per-cpu page lists are not modelled: every allocation comes from the buddy lists.
/// </summary>
public sealed class BuddyAllocator
{
    const int Types = MigrateTypes.PcpTypes;
    readonly MemMap _map;
    readonly int _maxOrder;
    /// <summary>One free list (free_area[order].free_list[type]): a stack of PFNs, Len of them in use, and its count of free blocks.</summary>
    struct FreeArea
    {
        public int[] Stack;
        public int Len;
        public long NrFree;
    }
    readonly FreeArea[] _areas;      // [order * Types + type]
    readonly ulong[] _nonEmpty;      // [type]: bit o set while NrFree of (o, type) is not zero
    readonly byte[] _blockType;      // per pageblock
    long _frontier;

    public long TotalPages { get; }
    long _listFree;
    /// <summary>Free pages: blocks on the free lists plus memory never handed out.</summary>
    public long FreePages => _listFree + (TotalPages - _frontier);
    public int MaxOrder => _maxOrder;
    /// <summary>pageblock_order: min(PMD order, MAX_PAGE_ORDER).</summary>
    public int PageblockOrder { get; }
    public int PageblockPages => 1 << PageblockOrder;
    public long NrPageblocks => _blockType.Length;
    /// <summary>
    /// page_group_by_mobility_disabled: fewer pages than pageblock_nr_pages × MIGRATE_TYPES
    /// (build_all_zonelists()). Every pageblock is then unmovable and so is every allocation
    /// (gfp_migratetype()).
    /// </summary>
    public bool MobilityDisabled { get; }
    /// <summary>The type of memory never handed out: movable, or unmovable with mobility grouping disabled.</summary>
    readonly MigrateType _freshType;

    public BuddyAllocator(MemMap map, int maxOrder, int pmdOrder)
    {
        _map = map;
        _maxOrder = maxOrder;
        TotalPages = map.TotalPages;
        PageblockOrder = Math.Min(pmdOrder, maxOrder);
        MobilityDisabled = TotalPages < (long)PageblockPages * MigrateTypes.Count;
        _areas = new FreeArea[(maxOrder + 1) * Types];
        _nonEmpty = new ulong[Types];
        for (int i = 0; i < _areas.Length; i++) _areas[i].Stack = new int[16];
        _blockType = new byte[(TotalPages + PageblockPages - 1) >> PageblockOrder];
        _freshType = MobilityDisabled ? MigrateType.Unmovable : MigrateType.Movable;
        Array.Fill(_blockType, (byte)_freshType);   // memmap_init_range() marks every block movable
    }

    static int Slot(int order, MigrateType mt) => order * Types + (int)mt;

    /// <summary>One more free block of ORDER on the type's list.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void CountIn(int order, MigrateType mt) => CountIn(ref _areas[Slot(order, mt)], order, mt);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void CountIn(ref FreeArea area, int order, MigrateType mt)
    {
        if (area.NrFree++ == 0) _nonEmpty[(int)mt] |= 1UL << order;
    }

    /// <summary>One free block of ORDER fewer on the type's list.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void CountOut(int order, MigrateType mt) => CountOut(ref _areas[Slot(order, mt)], order, mt);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void CountOut(ref FreeArea area, int order, MigrateType mt)
    {
        if (--area.NrFree == 0) _nonEmpty[(int)mt] &= ~(1UL << order);
    }

    /// <summary>The migratetype of the pageblock holding PFN (get_pfnblock_migratetype()).</summary>
    public MigrateType BlockType(long pfn) => (MigrateType)_blockType[pfn >> PageblockOrder];

    /// <summary>Pageblocks of each type (the "Number of blocks type" lines of /proc/pagetypeinfo).</summary>
    public long[] BlockCounts()
    {
        var n = new long[MigrateTypes.Count];
        foreach (byte t in _blockType) n[t]++;
        return n;
    }

    /// <summary>Number of free blocks of exactly this order (free_area[order].nr_free), fresh memory excluded.</summary>
    public long NrFree(int order)
    {
        long n = 0;
        for (int t = 0; t < Types; t++) n += _areas[order * Types + t].NrFree;
        return n;
    }

    /// <summary>Free blocks of this order on the lists of one type, fresh memory excluded.</summary>
    public long NrFree(int order, MigrateType mt) => mt < (MigrateType)Types ? _areas[Slot(order, mt)].NrFree : 0;

    /// <summary>
    /// Free blocks of exactly this order as /proc/buddyinfo counts them: the free list's plus the
    /// blocks of that order the never-touched memory above the frontier would be handed out as.
    /// </summary>
    public long NrFreeWithFresh(int order) => NrFree(order) + FreshBlocks(order);

    /// <summary>As <see cref="NrFreeWithFresh(int)"/> for one migratetype (fresh memory is movable, unless mobility grouping is off).</summary>
    public long NrFreeWithFresh(int order, MigrateType mt) => NrFree(order, mt) + (mt == _freshType ? FreshBlocks(order) : 0);

    long FreshBlocks(int order)
    {
        long n = 0;
        for (long pos = _frontier; pos < TotalPages;)
        {
            int o = FreshBlockOrderAt(pos);
            long blocks = o == _maxOrder ? (TotalPages - pos) >> o : 1;   // whole max-order blocks, then a ragged end
            if (o == order) n += blocks;
            pos += blocks << o;
        }
        return n;
    }

    /// <summary>Attempts to claim part of a pageblock of another type since the caller last reset it (each boosts the watermarks).</summary>
    internal int PartialClaims;

    /// <summary>The type of every pageblock above the frontier.</summary>
    public MigrateType FreshType => _freshType;

    /// <summary>PFNs below this have per-page state; above it everything is free and untouched.</summary>
    public long Frontier => _frontier;

    /// <summary>
    /// models __rmqueue() as get_page_from_freelist() calls it on a one-zone machine: first with
    /// ALLOC_NOFRAGMENT (set for the Normal zone of an x86 machine that has a DMA32 zone below it,
    /// alloc_flags_nofragment()): the type's own lists, then claiming whole pageblocks only; if that
    /// fails, again without it: claiming part of a pageblock, then stealing.
    /// Returns the first PFN of a 2^order block, or -1 when none is free.
    /// </summary>
    public int Alloc(int order, MigrateType mt = MigrateType.Movable)
    {
        if (order > _maxOrder) return -1;
        if (MobilityDisabled) mt = MigrateType.Unmovable;
        int pfn = RmqueueSmallest(order, mt);
        if (pfn >= 0) return pfn;
        pfn = RmqueueClaim(order, mt, Math.Max(order, PageblockOrder));
        if (pfn >= 0) return pfn;
        if (order < PageblockOrder)
        {
            pfn = RmqueueClaim(order, mt, order);
            if (pfn >= 0) return pfn;
        }
        return RmqueueSteal(order, mt);
    }

    /// <summary>models __rmqueue_smallest(): the smallest free block of the type that fits, split down.</summary>
    int RmqueueSmallest(int order, MigrateType mt)
    {
        // the orders from ORDER up whose lists hold a free block, lowest first
        for (ulong orders = _nonEmpty[(int)mt] >> order << order; orders != 0; orders &= orders - 1)
        {
            int o = System.Numerics.BitOperations.TrailingZeroCount(orders);
            int pfn = PopValid(o, mt);
            if (pfn >= 0) return Expand(pfn, o, order, mt);
        }
        return mt == _freshType ? TakeFresh(order) : -1;
    }

    /// <summary>
    /// Successive order-0 allocations of the type's own lists (<see cref="RmqueueSmallest"/>), as many
    /// as <paramref name="pfns"/> holds or until one would have to claim or steal (<see cref="AllocRun"/>).
    /// </summary>
    public int AllocSmallRun(Span<int> pfns, MigrateType mt = MigrateType.Movable) => AllocRun(0, pfns, mt);

    /// <summary>
    /// Successive allocations of <paramref name="order"/> from the type's own lists
    /// (<see cref="RmqueueSmallest"/>), as many as <paramref name="heads"/> holds or until one would
    /// have to claim or steal (or take a ragged end of fresh memory): fills heads from the start and
    /// returns how many it got. A block split for the first of them hands out its pieces of that
    /// order in ascending order, so a run of them takes the block's low part at once and leaves its
    /// high part on the lists in the pieces expand() would have left: a step per block, not per
    /// allocation.
    /// </summary>
    public int AllocRun(int order, Span<int> heads, MigrateType mt = MigrateType.Movable)
    {
        if (MobilityDisabled) mt = MigrateType.Unmovable;
        int got = 0;
        while (got < heads.Length)
        {
            int pfn = -1, o = order;
            for (ulong orders = _nonEmpty[(int)mt] >> order << order; orders != 0 && pfn < 0; orders &= orders - 1)
            {
                o = System.Numerics.BitOperations.TrailingZeroCount(orders);
                pfn = PopValid(o, mt);
            }
            if (pfn < 0)
            {
                if (mt != _freshType || _frontier >= TotalPages) break;
                o = FreshBlockOrder();
                if (o < order) break;   // a ragged end of memory: the next allocation the usual way
                pfn = (int)_frontier;
                _frontier += 1L << o;
                _map.EnsureCapacity(_frontier);
            }
            int take = Math.Min(heads.Length - got, 1 << (o - order));
            int pages = take << order;
            if (pages == 1) _map.SetFreeTail(pfn);   // a single fault's page
            else _map.SetFreeTails(pfn, pages);
            for (int i = 0; i < take; i++) heads[got++] = pfn + (i << order);
            // what is left of the block, [pfn + pages, end): the largest aligned piece at each point
            for (int p = pfn + pages, end = pfn + (1 << o); p < end;)
            {
                int piece = System.Numerics.BitOperations.TrailingZeroCount(p - pfn);
                PushFree(p, piece, mt);
                p += 1 << piece;
            }
        }
        return got;
    }

    /// <summary>Hands out the next never-touched block that can hold ORDER (ragged pieces before it go to the movable lists).</summary>
    int TakeFresh(int order)
    {
        while (_frontier < TotalPages)
        {
            int o = FreshBlockOrder();
            int pfn = (int)_frontier;
            _frontier += 1L << o;
            _map.EnsureCapacity(_frontier);
            if (o >= order) return Expand(pfn, o, order, _freshType);
            PushFree(pfn, o, _freshType);   // a ragged end of memory smaller than the request
        }
        return -1;
    }

    /// <summary>
    /// models __rmqueue_claim(): from the largest order down to MINORDER, the head block of the first
    /// fallback type with free blocks; the whole pageblock changes type when the request or the block
    /// is large enough (try_to_claim_block()).
    /// </summary>
    int RmqueueClaim(int order, MigrateType mt, int minOrder)
    {
        for (int o = _maxOrder; o >= minOrder; o--)
        {
            if (!ShouldTryClaimBlock(o, mt)) break;
            int fallback = FindFallback(o, mt);
            if (fallback < 0) continue;
            int pfn = TryToClaimBlock(o, order, mt, (MigrateType)fallback);
            if (pfn >= 0) return pfn;
        }
        return -1;
    }

    /// <summary>models should_try_claim_block()</summary>
    bool ShouldTryClaimBlock(int order, MigrateType mt) =>
        order >= PageblockOrder / 2 || mt != MigrateType.Movable || MobilityDisabled;

    /// <summary>models find_suitable_fallback() without the claim test: the first fallback type with a free block of ORDER, or -1.</summary>
    int FindFallback(int order, MigrateType mt)
    {
        foreach (var f in MigrateTypes.Fallbacks(mt))
            if (HasFree(order, f)) return (int)f;
        return -1;
    }

    /// <summary>Whether a free block of exactly ORDER is on the type's list (fresh memory counts as max-order movable).</summary>
    bool HasFree(int order, MigrateType mt) =>
        _areas[Slot(order, mt)].NrFree > 0 || (mt == _freshType && _frontier < TotalPages && FreshBlockOrder() == order);

    /// <summary>models try_to_claim_block(); -1 when the block stays with its type.</summary>
    int TryToClaimBlock(int current, int order, MigrateType start, MigrateType blockType)
    {
        int pfn = PeekValid(current, blockType);
        if (current >= PageblockOrder)
        {
            pfn = pfn >= 0 ? PopValid(current, blockType) : TakeFresh(current);
            SetBlockRange(pfn, current, start);
            return Expand(pfn, current, order, start);
        }
        if (pfn < 0) return -1;   // only fresh memory, always max order
        PartialClaims++;   // boost_watermark() comes first: the attempt itself is the sign of fragmentation
        long blockStart = pfn & ~(long)(PageblockPages - 1);
        var (free, movable) = CountBlock(blockStart);
        int alike = start == MigrateType.Movable ? movable
            : blockType == MigrateType.Movable ? PageblockPages - (free + movable) : 0;
        if (free + alike < PageblockPages / 2 && !MobilityDisabled) return -1;
        MoveFreeBlocks(blockStart, start);
        return RmqueueSmallest(order, start);
    }

    /// <summary>models prep_move_freepages_block()'s count: free pages, and pages on the LRU (movable).</summary>
    (int Free, int Movable) CountBlock(long blockStart)
    {
        int free = 0, movable = 0;
        long end = Math.Min(blockStart + PageblockPages, TotalPages);
        for (long p = blockStart; p < end;)
        {
            if (p >= _frontier) { free += (int)(end - p); break; }
            var (kind, order) = _map.KindAndOrder((int)p);
            if (kind == PageKind.FreeHead) { free += 1 << order; p += 1L << order; continue; }
            if (IsLruKind(kind)) movable++;
            p++;
        }
        return (free, movable);
    }

    /// <summary>Pages on the LRU (PageLRU()): anonymous and shmem memory, pinned user pages, page cache.</summary>
    internal static bool IsLruKind(PageKind kind) => kind is PageKind.Anon or PageKind.Shmem or PageKind.Pinned or PageKind.FileCache;

    /// <summary>models __move_freepages_block() + set_pageblock_migratetype(): the block's free pages go to the new type's lists.</summary>
    void MoveFreeBlocks(long blockStart, MigrateType to)
    {
        var from = BlockType(blockStart);
        _blockType[blockStart >> PageblockOrder] = (byte)to;
        long end = Math.Min(blockStart + PageblockPages, Math.Min(_frontier, TotalPages));
        for (long p = blockStart; p < end;)
        {
            var (kind, order) = _map.KindAndOrder((int)p);
            if (kind == PageKind.FreeHead)
            {
                CountOut(order, from);   // its entry on the old list is now stale
                _listFree -= 1L << order;
                PushFree((int)p, order, to);
                p += 1L << order;
            }
            else p++;
        }
    }

    /// <summary>models change_pageblock_range(): every pageblock a block of ORDER covers gets the type.</summary>
    void SetBlockRange(long pfn, int order, MigrateType mt)
    {
        long first = pfn >> PageblockOrder, n = Math.Max(1L, (1L << order) >> PageblockOrder);
        for (long b = first; b < first + n; b++) _blockType[b] = (byte)mt;
    }

    /// <summary>models __rmqueue_steal(): the smallest block of a fallback type, split down; the pageblock keeps its type.</summary>
    int RmqueueSteal(int order, MigrateType mt)
    {
        for (int o = order; o <= _maxOrder; o++)
        {
            int fallback = FindFallback(o, mt);
            if (fallback < 0) continue;
            var f = (MigrateType)fallback;
            int pfn = PopValid(o, f);
            if (pfn < 0) pfn = TakeFresh(o);
            return Expand(pfn, o, order, f);
        }
        return -1;
    }

    /// <summary>Whether a free block of exactly ORDER is on the type's list, fresh memory included (!free_area_empty()).</summary>
    internal bool HasFreeBlock(int order, MigrateType mt) => mt < (MigrateType)Types && HasFree(order, mt);

    /// <summary>models find_suitable_fallback(): -2 when a claim is wanted but the request is too small to claim, -1 when no fallback list has a block, else the fallback type.</summary>
    internal int FindSuitableFallback(int order, MigrateType mt, bool claimable)
    {
        if (claimable && !ShouldTryClaimBlock(order, mt)) return -2;
        return FindFallback(order, mt);
    }

    /// <summary>
    /// models __zone_watermark_ok() for one zone: free pages less those too small to make up the
    /// order must stay above MARK, and some free list must hold a block of at least the order.
    /// </summary>
    internal bool WatermarkOk(int order, long mark)
    {
        if (FreePages - ((1L << order) - 1) <= mark) return false;
        if (order == 0) return true;
        for (int o = order; o <= _maxOrder; o++)
            for (int t = 0; t < Types; t++)
                if (HasFree(o, (MigrateType)t)) return true;
        return false;
    }

    /// <summary>Free pages held in free blocks of at least ORDER, fresh memory included.</summary>
    internal long FreePagesInBlocksOf(int order)
    {
        long n = 0;
        for (int o = order; o <= _maxOrder; o++) n += NrFreeWithFresh(o) << o;
        return n;
    }

    /// <summary>Free blocks of every order, fresh memory included.</summary>
    internal long FreeBlocksTotal()
    {
        long n = 0;
        for (int o = 0; o <= _maxOrder; o++) n += NrFreeWithFresh(o);
        return n;
    }

    /// <summary>models __isolate_free_page() of a whole free block: off its list, its frames left as free tails for the caller.</summary>
    internal void IsolateFreeBlock(int head, int order)
    {
        var mt = BlockType(head);
        _map.SetFreeTail(head);   // its list entry is now stale
        CountOut(order, mt);
        _listFree -= 1L << order;
    }

    /// <summary>set_pageblock_migratetype() with its free pages moved along (move_freepages_block()).</summary>
    internal void SetBlockType(long blockStart, MigrateType mt)
    {
        if (BlockType(blockStart) != mt) MoveFreeBlocks(blockStart, mt);
    }

    int FreshBlockOrder() => FreshBlockOrderAt(_frontier);

    /// <summary>The largest block that starts at POS, is aligned to its size and ends inside memory.</summary>
    int FreshBlockOrderAt(long pos)
    {
        int o = _maxOrder;
        while (o > 0 && ((pos & ((1L << o) - 1)) != 0 || pos + (1L << o) > TotalPages)) o--;
        return o;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    int PopValid(int order, MigrateType mt)
    {
        ref var area = ref _areas[Slot(order, mt)];
        // No free block of the type: every entry left is stale, dropped at once.
        if (area.NrFree == 0)
        {
            area.Len = 0;
            return -1;
        }
        var list = area.Stack;
        int n = area.Len;
        while (n > 0)
        {
            int pfn = list[--n];
            if (IsFreeHead(pfn, order, mt))
            {
                area.Len = n;
                _map.SetFreeTail(pfn);
                CountOut(ref area, order, mt);
                _listFree -= 1L << order;
                return pfn;
            }
        }
        area.Len = 0;
        return -1;
    }

    /// <summary>get_page_from_free_area() without taking it: the head of the list, stale entries dropped.</summary>
    int PeekValid(int order, MigrateType mt)
    {
        ref var area = ref _areas[Slot(order, mt)];
        var list = area.Stack;
        for (; area.Len > 0; area.Len--)
        {
            int pfn = list[area.Len - 1];
            if (IsFreeHead(pfn, order, mt)) return pfn;
        }
        return -1;
    }

    bool IsFreeHead(int pfn, int order, MigrateType mt) => _map.IsFreeHead(pfn, order) && BlockType(pfn) == mt;

    /// <summary>models expand(): hands out the low half, returns the high halves to the type's free lists.</summary>
    int Expand(int pfn, int high, int low, MigrateType mt)
    {
        while (high > low)
        {
            high--;
            PushFree(pfn + (1 << high), high, mt);
        }
        return pfn;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void PushFree(int pfn, int order, MigrateType mt)
    {
        _map.SetFreeHead(pfn, order);
        ref var area = ref _areas[Slot(order, mt)];
        int len = area.Len;
        if (len == area.Stack.Length) Array.Resize(ref area.Stack, 2 * len);
        area.Stack[len] = pfn;
        area.Len = ++len;
        CountIn(ref area, order, mt);
        _listFree += 1L << order;
        if (len > 2 * area.NrFree + 1024) Compact(order, mt);
    }

    /// <summary>
    /// models __free_one_page(): coalesces with free buddies up to the max order, onto the list of the
    /// pageblock's type; a buddy of another type merged above pageblock_order takes this block's type.
    /// </summary>
    public void Free(int pfn, int order)
    {
        var mt = BlockType(pfn);
        if (order == 0) _map.SetFreeTail(pfn);
        else _map.SetFreeTails(pfn, 1 << order);
        while (order < _maxOrder)
        {
            int buddy = pfn ^ (1 << order);
            if (buddy + (1L << order) > _frontier || !_map.IsFreeHead(buddy, order)) break;
            var buddyType = BlockType(buddy);
            _map.SetFreeTail(buddy);   // its list entry is now stale
            CountOut(order, buddyType);
            _listFree -= 1L << order;
            if (buddyType != mt) SetBlockRange(buddy, order, mt);
            pfn = Math.Min(pfn, buddy);
            order++;
        }
        PushFree(pfn, order, mt);
    }

    /// <summary>
    /// Frees the folios at [pfn, pfn + n) (each naturally aligned, as every folio is) as freeing them
    /// one by one in page order would: each naturally aligned block of them up to pageblock_order is
    /// freed as one (freeing its folios in order merges them into it before anything outside can be
    /// reached, and one pageblock's type throughout means no type changes on the way), so a run
    /// costs a free per block, not per folio.
    /// </summary>
    public void FreeRun(int pfn, int n)
    {
        int end = pfn + n;
        while (pfn < end)
        {
            int order = Math.Min(System.Numerics.BitOperations.TrailingZeroCount(pfn | (1 << PageblockOrder)), PageblockOrder);
            while (pfn + (1 << order) > end) order--;
            Free(pfn, order);
            pfn += 1 << order;
        }
    }

    /// <summary>
    /// Puts all memory never handed out on the free lists, lowest block at the head, as boot left it
    /// (for placing pages at chosen frames anywhere in memory).
    /// </summary>
    internal void MaterializeFresh()
    {
        var blocks = new List<(int Pfn, int Order)>();
        while (_frontier < TotalPages)
        {
            int o = FreshBlockOrder();
            blocks.Add(((int)_frontier, o));
            _frontier += 1L << o;
        }
        _map.EnsureCapacity(_frontier);
        for (int i = blocks.Count - 1; i >= 0; i--) PushFree(blocks[i].Pfn, blocks[i].Order, _freshType);
    }

    /// <summary>
    /// Takes the free page PFN out of whatever free block holds it, returning the rest of the block to
    /// the lists (as __isolate_free_page() and split do for a page wanted at a given place), or false
    /// when PFN is not free. The page keeps its pageblock's type.
    /// </summary>
    public bool TakeFreePage(int pfn)
    {
        if (pfn >= _frontier) MaterializeFresh();
        for (int order = 0; order <= _maxOrder; order++)
        {
            int head = pfn & ~((1 << order) - 1);
            if (!_map.IsFreeHead(head, order)) continue;
            var mt = BlockType(head);
            _map.SetFreeTail(head);
            CountOut(order, mt);
            _listFree -= 1L << order;
            // split down, keeping the halves that do not hold PFN
            while (order > 0)
            {
                order--;
                int half = 1 << order;
                if (pfn >= head + half) { PushFree(head, order, mt); head += half; }
                else PushFree(head + half, order, mt);
            }
            return true;
        }
        return false;
    }

    /// <summary>
    /// Drops the stale entries of one list. A block listed twice keeps its upper (newer) entry, the one
    /// PopValid would meet first, so compacting never changes which block comes off the list next.
    /// </summary>
    void Compact(int order, MigrateType mt)
    {
        ref var area = ref _areas[Slot(order, mt)];
        var list = area.Stack;
        int n = area.Len, w = n;
        // from the top down, the kept entries packed at the top (w > r throughout: nothing unread is overwritten)
        for (int r = n - 1; r >= 0; r--)
        {
            int pfn = list[r];
            if (!IsFreeHead(pfn, order, mt) || _map.Test(pfn, PageFlags.Seen)) continue;
            _map.Set(pfn, PageFlags.Seen);
            list[--w] = pfn;
        }
        Array.Copy(list, w, list, 0, n - w);
        area.Len = n - w;
        foreach (int pfn in list.AsSpan(0, n - w)) _map.Clear(pfn, PageFlags.Seen);
    }

    /// <summary>The free list of one order and type as it stands, stale entries included (the invariant checker walks it without allocating).</summary>
    internal ReadOnlySpan<int> FreeList(int order, MigrateType mt) => _areas[Slot(order, mt)].Stack.AsSpan(0, _areas[Slot(order, mt)].Len);

    /// <summary>
    /// Walks every free block below the frontier (for the invariant checker): each valid list entry
    /// once, in list order, order by order and type by type.
    /// </summary>
    public IEnumerable<(int Pfn, int Order)> FreeBlocks()
    {
        for (int o = 0; o <= _maxOrder; o++)
            for (int t = 0; t < Types; t++)
            {
                var seen = new HashSet<int>();
                var area = _areas[Slot(o, (MigrateType)t)];
                for (int i = 0; i < area.Len; i++)
                {
                    int pfn = area.Stack[i];
                    if (IsFreeHead(pfn, o, (MigrateType)t) && seen.Add(pfn)) yield return (pfn, o);
                }
            }
    }
}
