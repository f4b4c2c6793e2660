using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Reclaim;
using MthpSim.Core.Stats;
using MthpSim.Core.Swap;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/madvise.c: MADV_COLD and MADV_PAGEOUT; mm/vmscan.c: shrink_folio_list() for anonymous folios
// (shmem folios: Shmem/Kernel.ShmemSwap.cs); mm/page_io.c: swap_writeout().
public sealed partial class Kernel
{
    /// <summary>
    /// models madvise_cold_or_pageout_pte_range() over one VMA: folios only this process maps are made
    /// old and deactivated (cold) or reclaimed at once (pageout, references ignored); a large folio the
    /// range covers in part is split first, and one another process may map is left alone. Shmem
    /// folios of a file mapping go the same way (the caller may write to the file, as root can).
    /// </summary>
    long MadviseColdOrPageout(Vma.Vma vma, ulong start, ulong end, bool pageout)
    {
        LruAddDrain();
        WalkPmdRange(vma.Mm, start, end, (slot, addr, next) =>
        {
            if (slot.Kind == PmdKind.Huge)
            {
                int head = Pte.Pfn(slot.Leaf);
                if (FolioMaybeMappedShared(head)) return;
                if (next - addr == (ulong)Geo.PmdSize)
                {
                    if (!pageout) slot.Leaf &= ~Pte.Young;
                    ClearReferenced(head, deactivate: !pageout);
                    if (pageout) ReclaimFolio(head, null, 0);
                    return;
                }
                if (!SplitFolio(head)) return;
            }
            if (slot.Kind == PmdKind.Table) ColdOrPageoutPtes(vma, slot, addr, next, pageout);
        });
        return 0;
    }

    /// <summary>The PTE half of madvise_cold_or_pageout_pte_range(); pageout reclaims what it isolated at the end.</summary>
    void ColdOrPageoutPtes(Vma.Vma vma, PmdSlot slot, ulong addr, ulong next, bool pageout)
    {
        var ptes = slot.Ptes!;
        var (i, endIdx) = PteSpan(addr, next);
        var isolated = pageout ? new List<(int Head, ulong Addr)>() : null;
        ulong pmdBase = addr & ~((ulong)Geo.PmdSize - 1);
        while (i < endIdx)
        {
            ulong pte = ptes[i];
            if (!Pte.IsNormal(pte)) { i++; continue; }
            int pfn = Pte.Pfn(pte);
            int head = Map.HeadOf(pfn);
            int nrPages = 1 << Map.Order(head);
            // madvise_folio_pte_batch(): the PTEs that go on mapping this folio page after page
            int nr = FolioPteBatch(ptes, i, endIdx, pfn, head + nrPages);
            if (nr < nrPages)
            {
                if (!FolioMaybeMappedShared(head) && SplitFolio(head)) continue;   // look at this PTE again
                i += nr;
                continue;
            }
            if (Map.FolioMapcount(head) != nrPages) { i += nr; continue; }
            if (!pageout) ContClearAccessBits(slot, i, nr, Pte.Young);   // clear_young_dirty_ptes()
            ClearReferenced(head, deactivate: !pageout);
            isolated?.Add((head, pmdBase + ((ulong)i << PageShift)));
            i += nr;
        }
        if (isolated != null)
            foreach (var (head, at) in isolated) ReclaimFolio(head, vma, at);
    }

    /// <summary>What both advices do to a folio first: PG_referenced goes; cold then deactivates it (folio_deactivate()).</summary>
    void ClearReferenced(int head, bool deactivate)
    {
        Map.Clear(head, PageFlags.Referenced);
        if (deactivate) FolioDeactivate(head);
    }

    /// <summary>
    /// models reclaim_pages() for one folio MADV_PAGEOUT isolated: shrink_folio_list() with
    /// references ignored, then what stays goes back to the LRU. <paramref name="vma"/> and
    /// <paramref name="addr"/> give the one mapping of a small folio when the model keeps no rmap for
    /// small folios (no swap device).
    /// </summary>
    void ReclaimFolio(int head, Vma.Vma? vma, ulong addr)
    {
        IsolateFolio(head);
        // reclaim_pages() clears PG_active: a folio shrink_folio_list() keeps (a pinned one, say)
        // goes back to the inactive list, unless it is activated there
        if (Lru != null && Lru.IsIsolated(head)) Map.Clear(head, PageFlags.Active);
        ShrinkFolio(head, null, checkReferences: false, vma, addr);
    }

    /// <summary>
    /// models shrink_folio_list() for one isolated anon folio (a shmem one goes to
    /// <see cref="ShrinkShmemFolio"/>): with <paramref name="checkReferences"/>,
    /// folio_check_references() first. Lazily freed folios are discarded if still clean; others get
    /// swap slots (a large folio that gets none is split and its pages go one by one:
    /// swpout_fallback), are unmapped to swap entries, written (swpout, pswpout; all-zero folios only
    /// set the zeromap: swpout_zero) and freed. Pinned folios stay. What is not freed goes back to
    /// the LRU (activated where the kernel's activate_locked would). Returns the pages freed.
    /// </summary>
    long ShrinkFolio(int head, ScanControl? sc, bool checkReferences, Vma.Vma? vma = null, ulong addr = 0)
    {
        if (Map.Refcount(head) == 0) return 0;
        if (Map.Kind(head) == PageKind.Shmem) return ShrinkShmemFolio(head, sc, checkReferences);
        if (Map.Kind(head) != PageKind.Anon) return 0;
        int order = Map.Order(head), nr = 1 << order;
        // One rmap walk serves the reference check and the unmap; only the unmap needs it page by page.
        var runs = order > 0 || SmallRmap != null ? AnonFolioMappingRuns(head) : [new FolioMapping(vma!, addr, 1, Pmd: false)];
        if (SmallRmap != null && order == 0 && runs.Count != Map.FolioMapcount(head))
            throw new InvalidOperationException($"rmap walk of folio {head:x} found {runs.Count} mappings, its mapcount is {Map.FolioMapcount(head)}");
        if (checkReferences && sc != null && FolioCheckReferences(head, runs, sc) is var refs && refs != FolioReference.Reclaim)
        {
            PutbackFolio(head, activate: refs == FolioReference.Activate);
            return 0;
        }
        if (Map.Test(head, PageFlags.LazyFree))
        {
            // Unmapped and still held (a pin): folio_maybe_dma_pinned() activates it.
            if (runs.Count == 0) { PutbackFolio(head, activate: FolioMaybeDmaPinned(head)); return 0; }
            if (DiscardLazyFreeFolio(head, LazyFreeMappings(PerPage(runs)))) return nr;
            PutbackFolio(head, activate: true);
            return 0;
        }
        if (FolioMaybeDmaPinned(head)) { PutbackFolio(head); return 0; }
        if (InSwapCache(head))
        {
            // Already has its slots: only the mappings go (shrink_folio_list() skips add_to_swap()).
            return TryToUnmapToSwap(head, PerPage(runs), SwapCache!.OffsetOf(head), sc);
        }
        if (order > 0)
        {
            if (Map.Refcount(head) != ExpectedRefcount(head)) { PutbackFolio(head, activate: true); return 0; }   // can_split_folio()
            if (Map.Test(head, PageFlags.PartiallyMapped) && Map.Test(head, PageFlags.DeferredQueued))
            {
                if (SplitFolio(head)) return ShrinkSplitPages(PerPage(runs), head, nr, sc);
                PutbackFolio(head, activate: true);
                return 0;
            }
        }
        int offset = SwapInfo?.Alloc(order) ?? 0;
        if (offset == 0)
        {
            if (order == 0 || !SplitFolio(head)) { PutbackFolio(head, activate: true); return 0; }
            if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpSwpoutFallback);
            Stats.Count(order, MthpStat.SwpoutFallback);
            return ShrinkSplitPages(PerPage(runs), head, nr, sc);
        }
        return TryToUnmapToSwap(head, PerPage(runs), offset, sc);
    }

    /// <summary>
    /// After a split in reclaim every page of the old folio goes through reclaim as an order-0 folio:
    /// the head at once (its references already looked at), the others from the list
    /// split_folio_to_list() appended them to, taken from its tail (so from the last page down). A
    /// page still mapped is swapped out as any other; one mapped nowhere (unmapped before the split,
    /// or a zero-filled page the split mapped to the shared zero page) still gets a swap slot, which
    /// it gives back unwritten as it is freed (clean: no pageout()). Those slots move the swap
    /// allocator on, so later slots sit where they sit live. Any other page the split left isolated
    /// goes back to the LRU.
    /// </summary>
    long ShrinkSplitPages(List<(Vma.Vma Vma, ulong Addr)> mappings, int head, int nr, ScanControl? sc)
    {
        var byPage = new Dictionary<int, (Vma.Vma, ulong)>();
        foreach (var (vma, addr) in mappings)
        {
            int pfn = ResolvePfn(vma.Mm, addr, out var kind);
            if (kind == MappingKind.PtePage && Map.Kind(pfn) == PageKind.Anon && Map.Order(pfn) == 0) byPage.TryAdd(pfn, (vma, addr));
        }
        long freed = 0;
        for (int i = 0; i < nr; i++)
        {
            int pfn = i == 0 ? head : head + nr - i;
            if (byPage.Remove(pfn, out var m)) freed += ShrinkFolio(pfn, sc, checkReferences: i != 0, m.Item1, m.Item2);
            else if (SwapInfo is { } si && si.Alloc(0) is var slot and > 0) si.Put(slot);   // folio_alloc_swap(), then __remove_mapping()
        }
        if (Lru != null)
            foreach (var (vma, addr) in mappings)
            {
                int pfn = ResolvePfn(vma.Mm, addr, out _);
                if (pfn >= 0) PutbackFolio(Map.HeadOf(pfn));
            }
        PutbackFolio(head);
        return freed;
    }

    /// <summary>
    /// models add_to_swap(), try_to_unmap() with TTU_SPLIT_HUGE_PMD into swap entries, then pageout()
    /// → swap_writeout() and __remove_mapping(): the folio enters the swap cache (if not there yet), a
    /// PMD mapping is split first (thp_split_pmd), each PTE becomes the entry of its page's slot
    /// (exclusive if the page was), and the content goes to the slots; a folio that was already in the
    /// swap cache is written only if dirty (a clean one still matches its slots), one of all zeroes
    /// only sets the zeromap. Then the folio leaves the cache and is freed, unless the device's I/O is
    /// asynchronous and it was written: writeback keeps it in the swap cache, clean.
    /// </summary>
    long TryToUnmapToSwap(int head, List<(Vma.Vma Vma, ulong Addr)> mappings, int offset, ScanControl? sc)
    {
        var si = SwapInfo!;
        int order = Map.Order(head);
        int nr = 1 << order;
        bool cached = InSwapCache(head);
        if (!cached)
        {
            SwapCacheAddFolio(head, offset);
            si.SetMemcgId(offset, nr, SwapCgroupId(head));   // swap_cgroup_record()
        }
        foreach (var (vma, addr) in mappings)
        {
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr))!;
            if (slot.Kind == PmdKind.Huge) SplitHugePmd(vma, slot, addr & ~((ulong)Geo.PmdSize - 1));
        }
        foreach (var (vma, addr) in mappings)
        {
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr))!;
            int idx = PteIndex(addr);
            ulong pte = slot.Ptes![idx];
            int pfn = Pte.Pfn(pte);
            if (Pte.IsDirty(pte)) Map.Set(head, PageFlags.Dirty);
            ContTryUnfold(slot, idx);   // ptep_clear_flush()
            slot.Ptes[idx] = Pte.MakeSwap(offset + (pfn - head), Map.Test(pfn, PageFlags.AnonExclusive)) | (pte & Pte.UffdWp);
            Map.Clear(pfn, PageFlags.AnonExclusive);
            vma.Mm.Rss[(int)RssMember.AnonPages]--;
            vma.Mm.Rss[(int)RssMember.SwapEnts]++;
            FolioRemoveRmapPtes(head, pfn, 1, vma.Mm);
        }
        // A slot ends with one reference per swap entry (swap_duplicate() for each); the allocation's
        // own reference was the swap cache's (SWAP_HAS_CACHE), which the cache now stands for.
        var mapped = new int[nr];
        foreach (var (vma, addr) in mappings) mapped[ResolvedSlot(vma, addr, offset)]++;
        for (int i = 0; i < nr; i++) si.AddCount(offset + i, cached ? mapped[i] : mapped[i] - 1);
        FolioPut(head, mappings.Count);
        return SwapWriteout(head, offset, write: !cached || Map.Test(head, PageFlags.Dirty), sc);
    }

    /// <summary>
    /// models pageout() → swap_writeout() and __remove_mapping() for an unmapped folio in the swap
    /// cache: written if <paramref name="write"/> (a clean one still matches its slots; one of all
    /// zeroes only sets the zeromap: swpout_zero), then it leaves the cache and is freed, unless the
    /// device's I/O is asynchronous and it was written: writeback keeps it in the swap cache, clean.
    /// A folio somebody else still holds (a reference beyond the swap cache's, such as a fault's
    /// copying it) is neither written (is_page_cache_freeable()) nor freed (the reference freeze of
    /// __remove_mapping() fails): it stays in the swap cache, unmapped, for its next fault to find.
    /// Returns the pages freed.
    /// </summary>
    long SwapWriteout(int head, int offset, bool write, ScanControl? sc)
    {
        var si = SwapInfo!;
        int order = Map.Order(head), nr = 1 << order;
        if (Map.Refcount(head) != nr)
        {
            if (write) Map.Set(head, PageFlags.Dirty);   // add_to_swap() dirtied it, and nothing wrote it
            PutbackFolio(head);
            return 0;
        }
        bool zero = true;
        for (int i = 0; i < nr && zero; i++) zero = Map.Content(head + i) == 0;
        for (int i = 0; i < nr; i++)
        {
            if (write) si.Store(offset + i, Map.Content(head + i), zero);
            else if (si.Content(offset + i) != Map.Content(head + i))
                throw new InvalidOperationException($"clean swap cache folio {head:x} differs from its slot {offset + i}");
        }
        if (write && zero) Stats.Count(VmEvent.SwpoutZero, nr);
        else if (write)
        {
            if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpSwpout);
            Stats.Count(order, MthpStat.Swpout);
            Stats.Count(VmEvent.Pswpout, nr);
        }
        if (write && sc != null) sc.NrPageout += nr;
        if (write && !zero && !si.Synchronous)
        {
            Map.Clear(head, PageFlags.Dirty);   // under writeback: reclaim keeps it for a later pass
            PutbackFolio(head, tail: true);
            return 0;
        }
        if (Lru != null) WorkingsetEviction(head, offset, sc);   // __remove_mapping() leaves a shadow in its slots
        SwapCacheDelFolio(head);   // the cache's were the last references: the folio is freed
        return nr;
    }

    int ResolvedSlot(Vma.Vma vma, ulong addr, int offset) =>
        Pte.SwapOffset(vma.Mm.PageTables.Find(PmdIndex(addr))!.Ptes![PteIndex(addr)]) - offset;
}
