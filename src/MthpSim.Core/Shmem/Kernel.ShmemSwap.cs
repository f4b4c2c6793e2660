using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Reclaim;
using MthpSim.Core.Shmem;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/shmem.c: shmem folios out to swap and back. Swapped out, a folio leaves the page cache for a
// swap entry there (one multi-index entry per folio) and becomes a plain swap-cache folio; its page
// tables keep nothing (a later fault finds the entry through the page cache).
public sealed partial class Kernel
{
    /// <summary>Every present PTE or PMD mapping a page of a shmem folio (rmap_walk_file() over the file's VMAs), a run at a time.</summary>
    internal List<FolioMapping> FileFolioMappingRuns(int head)
    {
        if (Map.FolioMapcount(head) == 0) return [];
        var (f, index) = _shmemOwner[head];
        int nr = 1 << Map.Order(head);
        // Ends once it found every mapping the mapcounts hold, as the anon walk does.
        long mappings = RmapMappingsLeft(head, nr), found = 0;
        var result = new List<FolioMapping>();
        foreach (var mm in _mms)
            foreach (var vma in mm.Vmas)
            {
                if (vma.File != f) continue;
                if (found == mappings) return result;
                // the file's interval tree holds only VMAs whose page offsets cover the folio's
                if (VmaCoversIndex(vma, index, nr)) found += AddVmaMappings(vma, head, index, nr, result);
            }
        return result;
    }

    /// <summary><see cref="FileFolioMappingRuns"/> as one entry per page.</summary>
    internal List<(Vma.Vma Vma, ulong Addr)> FileFolioMappings(int head) => PerPage(FileFolioMappingRuns(head));

    /// <summary>The rmap walk for either kind of folio on the LRU, a run at a time.</summary>
    List<FolioMapping> FolioMappingRuns(int head) =>
        Map.Kind(head) == PageKind.Shmem ? FileFolioMappingRuns(head) : AnonFolioMappingRuns(head);

    /// <summary>
    /// models shrink_folio_list() for one isolated shmem folio: with <paramref name="checkReferences"/>,
    /// folio_check_references() first; then try_to_unmap() (a PMD mapping is split, which for a file
    /// drops it; dirty bits go to the folio). A clean folio — never written since it was zeroed — leaves
    /// the page cache as a hole (__remove_mapping(), no shadow: shmem is not on the file LRU); a dirty
    /// one goes to swap (pageout() → shmem_writeout()). A pinned folio, unmapped, is activated.
    /// Returns the pages freed.
    /// </summary>
    long ShrinkShmemFolio(int head, ScanControl? sc, bool checkReferences)
    {
        if (head == _faultLockedFolio) { PutbackFolio(head); return 0; }   // folio_trylock() fails
        int nr = 1 << Map.Order(head);
        var runs = FileFolioMappingRuns(head);
        if (checkReferences && sc != null && FolioCheckReferences(head, runs, sc) is var refs && refs != FolioReference.Reclaim)
        {
            PutbackFolio(head, activate: refs == FolioReference.Activate);
            return 0;
        }
        var mappings = PerPage(runs);
        TryToUnmapFileFolio(head, mappings);
        // Unmapped, it cannot be newly pinned: one that is pinned is not worth reclaiming (activate_locked).
        if (FolioMaybeDmaPinned(head)) { PutbackFolio(head, activate: true); return 0; }
        if (Map.Refcount(head) != nr) { PutbackFolio(head); return 0; }   // is_page_cache_freeable() / the refcount freeze
        if (Map.Test(head, PageFlags.Dirty)) return ShmemWriteout(head, sc);
        var (f, index) = _shmemOwner[head];
        ReleaseCacheFolio(f, head, index, nr);
        Paths.ShmemCleanDropped += nr;
        return nr;
    }

    /// <summary>models try_to_unmap() of a shmem folio with TTU_SPLIT_HUGE_PMD: each PMD mapping is split (thp_split_pmd; a file PMD is dropped), each PTE cleared (a write-protected one leaves a uffd-wp marker), its dirty bit going to the folio.</summary>
    void TryToUnmapFileFolio(int head, List<(Vma.Vma Vma, ulong Addr)> mappings)
    {
        foreach (var (vma, addr) in mappings)
        {
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr))!;
            if (slot.Kind == PmdKind.Huge)
            {
                if (Pte.Pfn(slot.Leaf) == head) SplitHugePmd(vma, slot, addr & ~((ulong)Geo.PmdSize - 1));
                continue;
            }
            if (slot.Kind != PmdKind.Table) continue;   // a PMD mapping already dropped
            int idx = PteIndex(addr);
            ulong pte = slot.Ptes![idx];
            if (!Pte.IsNormal(pte) || Map.HeadOf(Pte.Pfn(pte)) != head) continue;
            if (Pte.IsDirty(pte)) Map.Set(head, PageFlags.Dirty);
            ContTryUnfold(slot, idx);   // ptep_clear_flush()
            slot.Ptes[idx] = UnmappedEntry(vma, pte);
            vma.Mm.Rss[(int)RssMember.ShmemPages]--;
            FolioRemoveRmapPtes(head, Pte.Pfn(pte), 1, vma.Mm);
            FolioPut(head);
        }
    }

    /// <summary>
    /// models shmem_writeout() for an unmapped, dirty shmem folio: a large folio crossing
    /// max(EOF, fallocend) is split first, as is one that gets no swap slots; the folio enters the swap
    /// cache, a swap entry of its size replaces it in the page cache (the slots' one reference each:
    /// swap_shmem_alloc()), it stops being shmem, and swap_writeout() writes it. Without a swap device
    /// or slots for an order-0 folio, it is redirtied and activated. Returns the pages freed.
    /// </summary>
    long ShmemWriteout(int head, ScanControl? sc)
    {
        var (f, index) = _shmemOwner[head];
        int order = Map.Order(head), nr = 1 << order;
        var si = SwapInfo;
        if (si == null) return ShmemRedirty(head);
        if (order > 0)
        {
            long end = Math.Max(PagesOf(f.Size), f.FallocEnd);   // shmem_fallocend()
            if (end > index && end < index + nr) return ShmemWriteoutSplit(head, sc);
        }
        if (!ShmemFolioUptodate(head) && f.Falloc is { } fa && index >= fa.Start && index < fa.Next)
        {
            fa.NrUnswapped += nr;   // a folio the fallocate under way has just added stays
            return ShmemRedirty(head);
        }
        MarkUptodate(head);   // a fallocated folio is zeroed (its content is) and written like any other
        int offset = si.Alloc(order);
        if (offset == 0) return order > 0 ? ShmemWriteoutSplit(head, sc) : ShmemRedirty(head);
        SwapCacheAddFolio(head, offset);
        si.SetMemcgId(offset, nr, SwapCgroupId(head));   // swap_cgroup_record()
        // shmem_delete_from_page_cache(): the allocation's count of each slot is now the page cache entry's
        f.Cache.InsertSwap(index, offset, order);
        SettleXaNodes(f, null);   // in place: no node made or freed
        _shmemOwner.Remove(head);
        NrShmem -= nr;
        if (order == Geo.PmdOrder) NrShmemThps -= nr;
        Map.SetFolioKind(head, PageKind.Anon);   // only the swap cache holds it now, like a folio read ahead
        FolioPut(head, nr);
        Paths.ShmemSwapout += nr;
        return SwapWriteout(head, offset, write: true, sc);
    }

    /// <summary>shmem_writeout()'s try_split: split_folio_to_list() to order 0 (still dirty), then each page that stays in the file is written out.</summary>
    long ShmemWriteoutSplit(int head, ScanControl? sc)
    {
        Map.Set(head, PageFlags.Dirty);
        var pieces = ShmemSplitFolio(head, head, uniform: true);
        if (pieces == null) return ShmemRedirty(head);
        long freed = 0;
        foreach (int p in pieces)
            if (_shmemOwner.Contains(p)) freed += ShmemWriteout(p, sc);
        return freed;
    }

    /// <summary>shmem_writeout()'s redirty: AOP_WRITEPAGE_ACTIVATE, so reclaim activates the folio.</summary>
    long ShmemRedirty(int head)
    {
        Map.Set(head, PageFlags.Dirty);
        PutbackFolio(head, activate: true);
        return 0;
    }

    /// <summary>
    /// models shmem_swapin_folio() for the swap entry at <paramref name="index"/>: the slot's folio from
    /// the swap cache, or on a synchronous-I/O device (zram) a folio of the entry's own order read past
    /// the cache (order 0 if another of its slots is in the swap cache or the allocation or charge
    /// fails), or else an order-0 folio read into the swap cache with the cluster's read-ahead; a read
    /// is a major fault for <paramref name="fault"/>. A folio smaller than the entry splits the entry
    /// first. The folio replaces its entries in the page cache, shmem and dirty again, and the slots are
    /// freed. Without a VMA the new folio is charged for <paramref name="current"/> (the calling
    /// process, null for a kernel thread) unless swap-out recorded a cgroup. Returns its head, or -ENOMEM.
    /// </summary>
    internal int ShmemSwapin(ShmemFile f, long index, Vma.Vma? vma, bool fault, MmStruct? current = null)
    {
        var si = SwapInfo!;
        f.Cache.IsSwap(index, out int off, out int order);
        int folio = si.CachedFolio(off);
        bool read = folio < 0;
        if (folio >= 0)
        {
            Map.AddRef(folio, 1);
            // swap_update_readahead() without a VMA: a read-ahead hit counts for the global window
            if (SwapCache!.TestClearReadahead(folio)) { Stats.Count(VmEvent.SwapRaHit); _swapinReadaheadHits++; }
        }
        else if (si.Synchronous)
        {
            folio = ShmemSwapAllocFolio(vma?.Mm ?? current, vma, index, off, order);
            if (folio < 0) return -Errno.ENOMEM;
        }
        else
        {
            folio = SwapClusterReadahead(vma?.Mm ?? current, off);   // shmem_swapin_cluster(): order 0
            if (folio < 0) return -Errno.ENOMEM;
        }
        if (read && fault)
        {
            Stats.Count(VmEvent.PgMajFault);
            _faultMajor = true;
        }
        int fo = Map.Order(folio), fnr = 1 << fo;
        if (order > fo) ShmemSplitLargeEntry(f, index, vma?.Mm ?? current);
        long first = index & ~((long)fnr - 1);
        int firstOff = off - (int)(index - first);
        // shmem_add_to_page_cache() over the entries; the swap cache (if it held the folio) lets go
        if (InSwapCache(folio)) SwapCacheDelFolio(folio);
        Map.SetFolioKind(folio, PageKind.Shmem);
        f.Cache.Remove(first, fnr);
        f.AllocedPages -= fnr;   // AddToPageCache() counts them again
        if (f.Mount != null) f.Mount.UsedPages -= fnr;
        AddToPageCache(f, folio, first);   // our reference becomes one of the cache's; in place, so no node is made or charged
        Map.Set(folio, PageFlags.Dirty);
        for (int i = 0; i < fnr; i++) si.Put(firstOff + i);   // swap_free_nr(): the page cache's references
        Paths.ShmemSwapin += fnr;
        return folio;
    }

    /// <summary>
    /// models shmem_swap_alloc_folio(): a folio of the entry's order (its slots all out of the swap
    /// cache), charged to the cgroup swap-out recorded, read past the swap cache; on failure the
    /// faulting page alone at order 0. Returns its head with one reference, or -1.
    /// </summary>
    int ShmemSwapAllocFolio(MmStruct? mm, Vma.Vma? vma, long index, int off, int order)
    {
        var si = SwapInfo!;
        int nr = 1 << order;
        int baseOff = off - (int)(index & (nr - 1));
        // A VMA registered with userfaultfd swaps in at order 0 too.
        if (order > 0 && !(vma != null && UserfaultfdArmed(vma)))
        {
            bool cached = false;
            for (int i = 0; i < nr && !cached; i++) cached = si.CachedFolio(baseOff + i) >= 0;   // non_swapcache_batch()
            if (!cached)
            {
                int head = VmaAllocFolio(order, PageKind.Anon, ThpGfp(vma));
                if (head >= 0 && MemcgCharge(head, mm, ThpChargeGfp(vma), SwapMemcg(baseOff)))
                    return ShmemSwapReadFolio(head, baseOff, order);
                if (head >= 0) FolioPut(head);
            }
        }
        int page = AllocChargedPage(PageKind.Anon, mm, SwapMemcg(off));
        return page < 0 ? -1 : ShmemSwapReadFolio(page, off, 0);
    }

    /// <summary>folio_add_lru() and swap_read_folio() for the new folio of <see cref="ShmemSwapAllocFolio"/>.</summary>
    int ShmemSwapReadFolio(int head, int baseOff, int order)
    {
        WorkingsetRefault(head, baseOff);
        LruAdd(head);
        SwapReadFolio(SwapInfo!, head, baseOff, order);
        return head;
    }

    /// <summary>
    /// models shmem_split_large_entry(): the multi-index swap entry holding index is split the way
    /// xas_try_split() can, down to order 0 at index: orders above 6 go to multiples of 6 first, and the
    /// pieces not holding index stay as large as that allows. The nodes it needs are charged to
    /// <paramref name="charger"/>'s group; one that cannot be is left uncharged (the kernel's swap-in
    /// would fail with -ENOMEM).
    /// </summary>
    void ShmemSplitLargeEntry(ShmemFile f, long index, MmStruct? charger)
    {
        f.Cache.IsSwap(index, out int off, out int curOrder);
        while (curOrder > 0)
        {
            int splitOrder = XasTrySplitMinOrder(curOrder);
            long aligned = index & ~((1L << curOrder) - 1);
            int alignedOff = off - (int)(index - aligned);
            for (long i = 0; i < 1L << curOrder; i += 1L << splitOrder)
                f.Cache.InsertSwap(aligned + i, alignedOff + (int)i, splitOrder);
            curOrder = splitOrder;
        }
        SettleXaNodes(f, charger);
    }

    /// <summary>xas_try_split_min_order() with XA_CHUNK_SHIFT 6.</summary>
    static int XasTrySplitMinOrder(int order) => order % 6 == 0 ? Math.Max(order - 1, 0) : order - order % 6;

    /// <summary>
    /// models shmem_free_swap() for every swap entry wholly inside [first, end): the entry leaves the
    /// page cache and its slots are freed (free_swap_and_cache_nr()). Returns the pages it held.
    /// </summary>
    long ShmemFreeSwap(ShmemFile f, long first, long end)
    {
        long freed = 0;
        foreach (var (index, off, order) in f.Cache.SwapEntries(first, end))
        {
            int nr = 1 << order;
            if (index < first || index + nr > end) continue;
            f.Cache.Remove(index, nr);
            SettleXaNodes(f, null);
            f.RecordContent(index, nr, 0);
            f.AllocedPages -= nr;
            if (f.Mount != null) f.Mount.UsedPages -= nr;
            for (int i = 0; i < nr; i++)
            {
                SwapInfo!.Put(off + i);
                if (SwapInfo.Count(off + i) == 0 && SwapInfo.CachedFolio(off + i) >= 0) TryToReclaimSwap(off + i);
            }
            freed += nr;
        }
        return freed;
    }

    /// <summary>
    /// models shmem_partial_swap_usage(): the bytes of the swap entries met in [first, end), each
    /// counted whole (its order's pages), even where it reaches past the range.
    /// </summary>
    internal long ShmemPartialSwapUsage(ShmemFile f, long first, long end)
    {
        long pages = 0;
        foreach (var (_, _, order) in f.Cache.SwapEntries(first, end))
            pages += 1L << order;
        return pages << PageShift;
    }
}
