using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Swap;

namespace MthpSim.Core;

// mm/swap_state.c: the swap cache and VMA-based swap read-ahead; mm/swapfile.c: folio_free_swap(),
// __try_to_reclaim_swap().
public sealed partial class Kernel
{
    /// <summary>/proc/sys/vm/page-cluster at its default: read-ahead windows of up to 2^3 pages.</summary>
    const int PageCluster = 3;
    /// <summary>SWAP_RA_ORDER_CEILING</summary>
    const int SwapRaOrderCeiling = 5;

    /// <summary>The swap cache's per-folio state; null without a swap device.</summary>
    public SwapCache? SwapCache { get; }

    /// <summary>folio_test_swapcache()</summary>
    internal bool InSwapCache(int head) => SwapCache != null && SwapCache.Contains(head);

    /// <summary>models folio_expected_ref_count() for an anon folio: one reference per mapping, one per page the swap cache holds.</summary>
    internal int ExpectedRefcount(int head) =>
        Map.FolioMapcount(head) + (InSwapCache(head) ? 1 << Map.Order(head) : 0);

    /// <summary>
    /// What a load through a swap entry of this slot reads once swap-in brings it back: the swap cache's
    /// folio where the slot has one (it may be newer than the slot: reclaim unmapped it and left it
    /// unwritten, dirty), else what the device holds.
    /// </summary>
    internal uint SwapSlotContent(int offset)
    {
        int head = SwapInfo!.CachedFolio(offset);
        return head < 0 ? SwapInfo.Content(offset) : Map.Content(head + offset - SwapCache!.OffsetOf(head));
    }

    /// <summary>models swap_cache_add_folio(): the slots name the folio, and the cache takes a reference per page.</summary>
    void SwapCacheAddFolio(int head, int offset)
    {
        int nr = 1 << Map.Order(head);
        for (int i = 0; i < nr; i++) SwapInfo!.SetCache(offset + i, head);
        SwapCache!.Add(head, offset, nr);
        Map.AddRef(head, nr);
    }

    /// <summary>models swap_cache_del_folio(): the cache lets go of the folio; slots no entry refers to are freed.</summary>
    void SwapCacheDelFolio(int head)
    {
        int nr = 1 << Map.Order(head);
        int offset = SwapCache!.OffsetOf(head);
        SwapCache.Remove(head, nr);
        for (int i = 0; i < nr; i++) SwapInfo!.ClearCache(offset + i);
        FolioPut(head, nr);
    }

    /// <summary>models folio_swapped(): an entry still refers to a slot of the folio.</summary>
    bool FolioSwapped(int head)
    {
        int offset = SwapCache!.OffsetOf(head);
        int nr = 1 << Map.Order(head);
        for (int i = 0; i < nr; i++) if (SwapInfo!.Count(offset + i) != 0) return true;
        return false;
    }

    /// <summary>
    /// models folio_free_swap(): a folio in the swap cache that no swap entry needs any more leaves
    /// it, freeing its slots; it is dirty from now on (its only copy is in memory).
    /// </summary>
    bool FolioFreeSwap(int head)
    {
        if (!InSwapCache(head) || FolioSwapped(head)) return false;
        Map.Set(head, PageFlags.Dirty);   // first: the cache's references may be the last
        SwapCacheDelFolio(head);
        return true;
    }

    /// <summary>models free_swap_cache(): a folio nobody maps any more gives up its slots if no entry needs them.</summary>
    void FreeSwapCache(int head)
    {
        if (InSwapCache(head) && Map.FolioMapcount(head) == 0) FolioFreeSwap(head);
    }

    /// <summary>
    /// models __try_to_reclaim_swap(TTRS_UNMAPPED | TTRS_FULL) after the last entry of a slot the swap
    /// cache holds went: the folio leaves the cache if nobody maps it or swap is more than half full.
    /// </summary>
    void TryToReclaimSwap(int offset)
    {
        int head = SwapInfo!.CachedFolio(offset);
        if (head < 0) return;
        if (Map.FolioMapcount(head) != 0 && !SwapInfo.Full) return;   // mem_cgroup_swap_full() is vm_swap_full() with cgroup v1
        ReclaimCachedSlot(offset);
    }

    /// <summary>
    /// models __try_to_reclaim_swap(TTRS_ANYWAY) for the swap allocator (<see cref="SwapDevice.ReclaimCacheOnly"/>):
    /// the folio cached for the slot leaves the cache, mapped or not, unless an entry needs one of its slots.
    /// </summary>
    int ReclaimCachedSlot(int offset)
    {
        int head = SwapInfo!.CachedFolio(offset);
        if (head < 0) return 0;
        int nr = 1 << Map.Order(head);
        if (FolioSwapped(head)) return -nr;
        Map.Set(head, PageFlags.Dirty);
        Map.AddRef(head, 1);
        SwapCacheDelFolio(head);
        FolioPut(head);
        return nr;
    }

    /// <summary>
    /// models swap_cache_get_folio() and swap_update_readahead(): the folio cached for the slot, with a
    /// reference for the caller, or -1. A hit on a read-ahead folio counts swap_ra_hit and one more hit
    /// in the VMA's read-ahead state (the global one with a rotational device); the VMA state's address
    /// becomes the fault's either way.
    /// </summary>
    int SwapCacheLookup(int offset, Vma.Vma vma, ulong addr)
    {
        int head = SwapInfo!.CachedFolio(offset);
        if (head < 0) return -1;
        Map.AddRef(head, 1);
        if (Map.Order(head) > 0) return head;
        bool readahead = SwapCache!.TestClearReadahead(head);
        if (!SwapInfo.Rotational)
        {
            long ra = SwapRaVal(vma);
            int win = SwapRaWin(ra), hits = SwapRaHits(ra);
            if (readahead) hits = Math.Min(hits + 1, SwapRaHitsMask);
            vma.SwapReadaheadInfo = MakeSwapRaVal(addr, win, hits);
        }
        if (readahead)
        {
            Stats.Count(VmEvent.SwapRaHit);
            if (SwapInfo.Rotational) _swapinReadaheadHits++;
        }
        return head;
    }

    // vma->swap_readahead_info: the last fault's address, the window and the hits since, packed in one word.
    int SwapRaWinShift => PageShift / 2;
    int SwapRaHitsMask => (1 << SwapRaWinShift) - 1;
    long SwapRaVal(Vma.Vma vma) => vma.SwapReadaheadInfo != 0 ? vma.SwapReadaheadInfo : 4;   // GET_SWAP_RA_VAL(): 4 hits to start with
    int SwapRaWin(long ra) => (int)((ra & ((long)Geo.PageSize - 1) & ~(long)SwapRaHitsMask) >> SwapRaWinShift);
    int SwapRaHits(long ra) => (int)(ra & SwapRaHitsMask);
    long MakeSwapRaVal(ulong addr, int win, int hits)
    {
        ulong offsetMask = (ulong)Geo.PageSize - 1;
        ulong winBits = ((ulong)win << SwapRaWinShift) & offsetMask & ~(ulong)SwapRaHitsMask;
        return (long)((addr & ~offsetMask) | winBits | (uint)(hits & SwapRaHitsMask));
    }

    /// <summary>
    /// models __swapin_nr_pages(): two pages more than the hits, rounded up to a power of two (at
    /// least 4); with no hits one page unless the fault is next to the last; never below half the
    /// last window.
    /// </summary>
    static int SwapinNrPages(long prevPfn, long pfn, int hits, int maxPages, int prevWin)
    {
        int pages = hits + 2;
        if (pages == 2)
        {
            if (pfn != prevPfn + 1 && pfn != prevPfn - 1) pages = 1;
        }
        else
        {
            int roundup = 4;
            while (roundup < pages) roundup <<= 1;
            pages = roundup;
        }
        if (pages > maxPages) pages = maxPages;
        return Math.Max(pages, prevWin / 2);
    }

    /// <summary>
    /// models swap_vma_ra_win(): the read-ahead window for a fault at <paramref name="faddr"/>, placed
    /// forward after a fault on the next page, backward after one on the previous page, else around
    /// it; clamped to the VMA and the PMD. Returns the window's size (1: no read-ahead).
    /// </summary>
    int SwapVmaRaWin(Vma.Vma vma, ulong faddr, out ulong start, out ulong end)
    {
        start = end = 0;
        int maxWin = 1 << Math.Min(PageCluster, SwapRaOrderCeiling);
        if (maxWin == 1) return 1;
        ulong pageSize = (ulong)Geo.PageSize;
        long ra = SwapRaVal(vma);
        ulong prevFaddr = (ulong)ra & ~(pageSize - 1);
        int win = SwapinNrPages((long)(prevFaddr >> PageShift), (long)(faddr >> PageShift), SwapRaHits(ra), maxWin, SwapRaWin(ra));
        vma.SwapReadaheadInfo = MakeSwapRaVal(faddr, win, 0);
        if (win == 1) return 1;
        long left;
        if (faddr == prevFaddr + pageSize) left = (long)faddr;
        else if (prevFaddr == faddr + pageSize) left = (long)faddr - ((long)win << PageShift) + (long)pageSize;
        else left = (long)faddr - ((long)((win - 1) / 2) << PageShift);
        long right = left + ((long)win << PageShift);
        if (left < 0) left = 0;
        ulong pmdStart = faddr & ~((ulong)Geo.PmdSize - 1);
        start = Math.Max(Math.Max((ulong)left, vma.Start), pmdStart);
        end = Math.Min(Math.Min((ulong)right, vma.End), pmdStart + (ulong)Geo.PmdSize);
        return win;
    }

    /// <summary>models swapin_readahead(): by VMA, or by slot cluster once a rotational device is swapped on.</summary>
    int SwapinReadahead(Vma.Vma vma, PmdSlot slot, ulong faddr, int offset) =>
        SwapInfo!.Rotational ? SwapClusterReadahead(vma.Mm, offset) : SwapVmaReadahead(vma, slot, faddr, offset);

    // The global read-ahead state of mm/swap_state.c (swapin_nr_pages()), used with rotational devices.
    int _swapinReadaheadHits = 4;
    long _swapinPrevOffset;
    int _swapinLastReadaheadPages;

    /// <summary>
    /// models swapin_nr_pages(): the window from the hits since the last call (taken and reset), the
    /// last offset read without hits and the last window.
    /// </summary>
    int SwapinNrPagesGlobal(long offset)
    {
        int maxPages = 1 << PageCluster;
        if (maxPages <= 1) return 1;
        int hits = _swapinReadaheadHits;
        _swapinReadaheadHits = 0;
        int pages = SwapinNrPages(_swapinPrevOffset, offset, hits, maxPages, _swapinLastReadaheadPages);
        if (hits == 0) _swapinPrevOffset = offset;
        _swapinLastReadaheadPages = pages;
        return pages;
    }

    /// <summary>
    /// models swap_cluster_readahead(): the naturally aligned run of slots around the fault's (never
    /// the header), as large as <see cref="SwapinNrPagesGlobal"/> says, read into the swap cache; then
    /// the fault's own folio, with a reference for the caller, or -1.
    /// </summary>
    int SwapClusterReadahead(Vma.MmStruct? mm, int offset)
    {
        int mask = SwapinNrPagesGlobal(offset) - 1;
        if (mask != 0)
        {
            int start = Math.Max(offset & ~mask, 1), end = Math.Min(offset | mask, SwapInfo!.Max - 1);
            for (int o = start; o <= end; o++) ReadAheadSlot(o, mm, target: o == offset);
        }
        return ReadSwapCacheAsync(offset, mm, out _);
    }

    /// <summary>
    /// models swap_vma_readahead(): every swap entry of the window (in the faulting page table) is read
    /// into the swap cache if it is not there yet, the ones other than the fault's marked read-ahead
    /// (swap_ra); then the fault's own folio, with a reference for the caller, or -1 when it could not
    /// be allocated or charged.
    /// </summary>
    int SwapVmaReadahead(Vma.Vma vma, PmdSlot slot, ulong faddr, int targetOffset)
    {
        if (SwapVmaRaWin(vma, faddr, out ulong start, out ulong end) > 1)
        {
            var ptes = slot.Ptes!;
            for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
            {
                ulong pte = ptes[PteIndex(addr)];
                if (Pte.IsSwap(pte)) ReadAheadSlot(Pte.SwapOffset(pte), vma.Mm, target: addr == faddr);
            }
        }
        return ReadSwapCacheAsync(targetOffset, vma.Mm, out _);
    }

    /// <summary>One slot of a read-ahead window read into the swap cache; a folio read for a page the fault did not ask for is marked read-ahead (swap_ra).</summary>
    void ReadAheadSlot(int offset, Vma.MmStruct? mm, bool target)
    {
        int head = ReadSwapCacheAsync(offset, mm, out bool allocated);
        if (head < 0) return;
        if (allocated && !target)
        {
            SwapCache!.SetReadahead(head);
            Stats.Count(VmEvent.SwapRa);
        }
        FolioPut(head);
    }

    /// <summary>
    /// models __read_swap_cache_async() and the read that follows a new folio: the slot's folio from
    /// the swap cache, or a new order-0 folio charged (to the cgroup swap-out recorded, else the
    /// faulting mm's), added to the cache and read from the device. Returns it with a reference for
    /// the caller, or -1 (the slot is free, or no memory).
    /// </summary>
    int ReadSwapCacheAsync(int offset, Vma.MmStruct? mm, out bool allocated)
    {
        allocated = false;
        var si = SwapInfo!;
        int head = si.CachedFolio(offset);
        if (head >= 0) { Map.AddRef(head, 1); return head; }
        if (si.Count(offset) == 0) return -1;   // swap_entry_swapped()
        head = AllocChargedPage(PageKind.Anon, mm, SwapMemcg(offset));
        if (head < 0) return -1;
        // The allocation may have reclaimed, or OOM-killed the slot's owner: swapcache_prepare()
        // then finds the slot freed (the read is given up) or cached meanwhile (that folio is used).
        int raced = si.CachedFolio(offset);
        if (raced >= 0 || si.Count(offset) == 0)
        {
            FolioPut(head);
            if (raced < 0) return -1;
            Map.AddRef(raced, 1);
            return raced;
        }
        WorkingsetRefault(head, offset);   // the shadow the cache held for the slot
        SwapCacheAddFolio(head, offset);
        LruAdd(head);   // folio_add_lru() in __read_swap_cache_async()
        SwapReadFolio(si, head, offset, 0);
        allocated = true;
        return head;
    }
}
