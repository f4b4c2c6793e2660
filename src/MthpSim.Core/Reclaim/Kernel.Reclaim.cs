using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/vmscan.c and the deferred-split shrinker of mm/huge_memory.c, as far as reclaim goes without swap.
public sealed partial class Kernel
{
    /// <summary>
    /// The <c>reclaim</c> statement: memory.force_empty of a group holding every process. With a swap
    /// device that is the LRU reclaim of <see cref="ForceEmpty"/>; without one only lazily freed
    /// folios (on the file LRU) and the shrinkers (the deferred split queue) have anything to give.
    /// Returns the pages freed.
    /// </summary>
    public long Reclaim() => ReclaimEverything(forceEmpty: true);

    /// <summary>
    /// <see cref="Reclaim"/>; without swap, <paramref name="forceEmpty"/> repeats the passes that free
    /// nothing as mem_cgroup_force_empty() does (kswapd and direct reclaim make one).
    /// </summary>
    long ReclaimEverything(bool forceEmpty)
    {
        long before = Buddy.FreePages;
        DropFileCache(NrFileCachePages);   // the page cache of files outside the scenario, all of it
        DrainAllStock();   // what memory.force_empty of the group holding every process does first
        if (Lru != null) ForceEmpty(null);
        else if (!forceEmpty)
        {
            ShrinkLazyFreeFolios();
            DeferredSplitScan(_deferredLen, null, everyQueue: true);
        }
        else
        {
            // Passes until 16 in a row free nothing. The first takes all it can; a pass that frees
            // nothing goes through the priorities twice (do_try_to_free_pages() again with
            // memcg_full_walk), the shrinkers trying each time the splits that fail (pinned
            // folios: split_failed). Measured live: one pinned, partially mapped folio, 32.
            if (ShrinkLazyFreeFolios() > 0) ShrinkSlabRoundWithoutLru(null);
            for (int pass = 0; pass < MaxReclaimRetries; pass++)
                for (int round = 0; round < 2; round++)
                    ShrinkSlabRoundWithoutLru(null);
        }
        return Buddy.FreePages - before;
    }

    /// <summary>
    /// Direct reclaim for an order-0 allocation that found no page above the min watermark: with a
    /// swap device try_to_free_pages() until one can be taken, giving up after 16 passes in a row that
    /// free nothing (should_reclaim_retry()); without one a single pass of what <see cref="Reclaim"/>
    /// frees. Returns a free page's PFN or -1.
    /// </summary>
    int DirectReclaimAlloc(PageAlloc.MigrateType mt, PageAlloc.Gfp gfp)
    {
        using var cost = ChargeTo(Cost.CostOp.Reclaim);
        long min = WatermarkPages().Min;
        // Clean page cache goes first: freeing it needs no I/O.
        while (NrFileCachePages > 0 && DropFileCache(SwapClusterMax) > 0)
            if (RmqueueAbove(0, mt, min, gfp) is int got and >= 0) return got;
        if (Lru == null)
        {
            ReclaimEverything(forceEmpty: false);
            return RmqueueAbove(0, mt, min, gfp);
        }
        for (int noProgress = 0; noProgress < MaxReclaimRetries;)
        {
            if (TryToFreePages() == 0) noProgress++;
            else noProgress = 0;
            int pfn = RmqueueAbove(0, mt, min, gfp);
            if (pfn >= 0) return pfn;
        }
        return -1;
    }

    /// <summary>
    /// models shrink_folio_list() → try_to_unmap() for lazily freed anon folios: a clean one is
    /// unmapped everywhere and freed (pglazyfreed). The rmap walk goes mapping by mapping: a dirty
    /// PTE makes the folio dirty, and a dirty folio (written since MADV_FREE, by any process, or
    /// through GUP) stops the walk, is swap-backed again and kept; so does one with extra references
    /// (pins). Mappings the walk took down before it stopped stay gone, so the order of the walk
    /// decides who keeps the folio (<see cref="RmapWalkOrder"/>).
    /// </summary>
    long ShrinkLazyFreeFolios(Memcg.MemCgroup? cg = null, long target = long.MaxValue)
    {
        // Find every mapping of a lazily freed folio by walking the page tables (the model keeps no
        // rmap index for small folios); Index -1 stands for a PMD mapping.
        var byFolio = new SortedDictionary<int, List<LazyFreeMapping>>();
        foreach (var mm in _mms)
        {
            Vma.Vma? vma = null;
            foreach (var (index, slot) in mm.PageTables.Ordered())
            {
                ulong pmdAddr = PmdBase(index);
                if (slot.Kind == PmdKind.Huge)
                {
                    int head = Pte.Pfn(slot.Leaf);
                    if (Map.Test(head, PageFlags.LazyFree) && (cg == null || MemcgOf(head) == cg)) Add(byFolio, head, new(VmaAt(mm, pmdAddr, ref vma), slot, -1, pmdAddr));
                    continue;
                }
                if (slot.Kind != PmdKind.Table) continue;
                for (int i = 0; i < slot.Ptes!.Length; i++)
                {
                    ulong pte = slot.Ptes[i];
                    if (!Pte.IsNormal(pte)) continue;
                    int head = Map.HeadOf(Pte.Pfn(pte));
                    if (!Map.Test(head, PageFlags.LazyFree) || (cg != null && MemcgOf(head) != cg)) continue;
                    ulong addr = pmdAddr + ((ulong)i << PageShift);
                    Add(byFolio, head, new(VmaAt(mm, addr, ref vma), slot, i, addr));
                }
            }
        }
        long freed = 0;
        foreach (var (head, mappings) in byFolio)
        {
            if (freed >= target) break;
            if (DiscardLazyFreeFolio(head, mappings)) freed += 1L << Map.Order(head);
        }
        return freed;
    }

    /// <summary>
    /// The lazily freed part of shrink_folio_list() for one folio: try_to_unmap() mapping by mapping
    /// in rmap order, then the folio is freed (pglazyfreed) unless the walk stopped.
    /// </summary>
    bool DiscardLazyFreeFolio(int head, List<LazyFreeMapping> mappings)
    {
        var run = new List<(MmStruct Mm, PmdSlot Slot, int Index)>();
        int nr = 1 << Map.Order(head);
        mappings.Sort(RmapWalkOrder);
        Map.AddRef(head, 1);   // reclaim holds the folio while it unmaps it
        bool discarded = true;
        for (int k = 0; k < mappings.Count && discarded;)
        {
            var m = mappings[k++];
            run.Clear();
            if (m.Index < 0)
            {
                // try_to_unmap() with TTU_SPLIT_HUGE_PMD: the walk splits a lazily freed PMD THP's PMD
                // when it meets it and discards at the PTE level (checked live: thp_split_pmd +1, no folio split).
                SplitHugePmd(m.Vma, m.Slot, m.Addr);
                for (int i = 0; i < m.Slot.Ptes!.Length; i++) run.Add((m.Vma.Mm, m.Slot, i));
            }
            else
            {
                // folio_unmap_pte_batch(): consecutive pages in one VMA and one page table go as one batch,
                // so a folio unmapped whole never looks partially mapped
                run.Add((m.Vma.Mm, m.Slot, m.Index));
                while (k < mappings.Count && ContinuesRun(m, mappings[k], run.Count))
                    run.Add((m.Vma.Mm, m.Slot, mappings[k++].Index));
            }
            discarded = TryToUnmapLazyFree(head, run);
        }
        if (discarded) Stats.Count(VmEvent.PgLazyFreed, nr);
        FolioPut(head);
        return discarded;
    }

    /// <summary>The lazily freed folio's mappings, as the rmap walk meets them, from (VMA, address) pairs of its pages.</summary>
    List<LazyFreeMapping> LazyFreeMappings(List<(Vma.Vma Vma, ulong Addr)> pages)
    {
        var result = new List<LazyFreeMapping>();
        foreach (var (vma, addr) in pages)
        {
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr))!;
            ulong pmdAddr = addr & ~((ulong)Geo.PmdSize - 1);
            if (slot.Kind == PmdKind.Huge)
            {
                if (!result.Exists(m => m.Slot == slot)) result.Add(new(vma, slot, -1, pmdAddr));
            }
            else result.Add(new(vma, slot, PteIndex(addr), addr));
        }
        return result;
    }

    /// <summary>One mapping of a lazily freed folio: a PTE (Index) or the PMD (Index -1) of Slot, at Addr in Vma.</summary>
    readonly record struct LazyFreeMapping(Vma.Vma Vma, PmdSlot Slot, int Index, ulong Addr);

    /// <summary>
    /// models the order of rmap_walk_anon(): it visits the folio's anon_vma interval tree in order,
    /// which is by vm_pgoff and, among equal offsets, by when each VMA's entry was put in
    /// (<see cref="Vma.Vma.RmapSeq"/>: a fork child after its parent, but a VMA mremap() moved or
    /// split after the relatives it was forked with); then page_vma_mapped_walk() goes through
    /// one VMA in address order.
    /// </summary>
    static readonly Comparison<LazyFreeMapping> RmapWalkOrder = (a, b) =>
    {
        int c = a.Vma.PgOff.CompareTo(b.Vma.PgOff);
        if (c == 0) c = a.Vma.RmapSeq.CompareTo(b.Vma.RmapSeq);
        if (c == 0) c = a.Vma.Mm.Id.CompareTo(b.Vma.Mm.Id);
        return c != 0 ? c : a.Addr.CompareTo(b.Addr);
    };

    /// <summary>Whether <paramref name="next"/> maps the page after the <paramref name="count"/>th of the batch started by <paramref name="first"/>.</summary>
    static bool ContinuesRun(LazyFreeMapping first, LazyFreeMapping next, int count) =>
        next.Vma == first.Vma && next.Slot == first.Slot && next.Index == first.Index + count &&
        Pte.Pfn(next.Slot.Ptes![next.Index]) == Pte.Pfn(first.Slot.Ptes![first.Index]) + count;

    /// <summary>The VMA containing addr, reusing the previous one while addr stays in it (mappings come in address order).</summary>
    static Vma.Vma VmaAt(MmStruct mm, ulong addr, ref Vma.Vma? last)
    {
        if (last == null || !last.Contains(addr)) last = mm.FindVma(addr)!;
        return last;
    }

    static void Add(SortedDictionary<int, List<LazyFreeMapping>> d, int head, LazyFreeMapping m)
    {
        if (!d.TryGetValue(head, out var list)) d[head] = list = new();
        list.Add(m);
    }

    /// <summary>
    /// models try_to_unmap_one() on one batch of PTEs of a lazily freed folio: their dirty bits go to
    /// the folio as they are cleared; a dirty folio gets them back (with the batch's merged bits) and
    /// is swap-backed again, one with references beyond its mappings gets them back as they were;
    /// otherwise they are discarded. Returns false when the walk stops here.
    /// </summary>
    bool TryToUnmapLazyFree(int head, List<(MmStruct Mm, PmdSlot Slot, int Index)> run)
    {
        ulong merged = 0;
        foreach (var (_, s, i) in run) merged |= s.Ptes![i] & (Pte.Dirty | Pte.Young);
        if ((merged & Pte.Dirty) != 0) Map.Set(head, PageFlags.Dirty);
        if (Map.Test(head, PageFlags.Dirty))
        {
            foreach (var (_, s, i) in run) s.Ptes![i] |= merged;   // set_ptes() of the merged entry
            Map.Clear(head, PageFlags.LazyFree);   // folio_set_swapbacked()
            return false;
        }
        if (Map.Refcount(head) != 1 + ExpectedRefcount(head)) return false;   // pinned or otherwise referenced
        UnmapForDiscard(head, run);
        return true;
    }

    /// <summary>Stores the kernel dropped from a process that had not freed them: each stands for what the process expects there now, which no page holds.</summary>
    readonly HashSet<uint> _droppedStores = new();

    /// <summary>Whether an expected-content token is a store the kernel dropped (the page reads zeroes; <c>intact</c> counts it lost).</summary>
    public bool IsDroppedStore(uint token) => _droppedStores.Count > 0 && _droppedStores.Contains(token);

    /// <summary>A token for a dropped store, taken from the top of the token space (stores take theirs from the bottom, in order).</summary>
    uint DropStore()
    {
        uint t = _nextDroppedToken--;
        if (t < _nextToken) throw new InvalidOperationException("content token space exhausted");
        _droppedStores.Add(t);
        return t;
    }

    uint _nextDroppedToken = PmdSlot.MaybeZero - 1;

    /// <summary>
    /// Takes a clean lazily freed folio's PTEs down for good. The process reads zeroes there from
    /// now on, also one that never freed it: MADV_FREE marks a clean folio lazily freed however many
    /// processes map it, so a page shared since a fork whose PTEs are all clean (read after a swap-in
    /// that bypassed the swap cache) is lost to the other process too: its expected content becomes a
    /// dropped store (checked live: tests/oracle/reclaim/lazyfree-discards-a-shared-clean-page.mthp).
    /// </summary>
    void UnmapForDiscard(int head, List<(MmStruct Mm, PmdSlot Slot, int Index)> run)
    {
        var (mm, slot, index) = run[0];
        int firstPfn = Pte.Pfn(slot.Ptes![index]);
        // folio_unmap_pte_batch() → get_and_clear_full_ptes(): each run of consecutive entries is one batch
        for (int a = 0, b; a < run.Count; a = b)
        {
            for (b = a + 1; b < run.Count && run[b].Slot == run[a].Slot && run[b].Index == run[b - 1].Index + 1; b++) { }
            ContClearPtes(run[a].Slot, run[a].Index, b - a);
        }
        foreach (var (_, s, i) in run)
        {
            s.Ptes![i] = 0;
            if (s.Expected is { } expected && expected[i] != 0 && (expected[i] & PmdSlot.MaybeZero) == 0) ExpectedForWrite(s)[i] = DropStore();
        }
        mm.Rss[(int)RssMember.AnonPages] -= run.Count;
        FolioRemoveRmapPtes(head, firstPfn, run.Count, mm);
        Map.AddRef(head, -run.Count);
    }

    /// <summary>
    /// models deferred_split_scan(): takes up to <paramref name="nrToScan"/> folios off the queue in
    /// one pass, then works through them. A partially mapped folio is split (split_folio()); one that
    /// was queued as an underused PMD THP is split only if thp_underused() says so
    /// (thp_underused_split_page). A partially mapped folio that cannot be split (pinned) goes back
    /// to the tail of the queue, not to be taken again in this pass (each try counts split_failed);
    /// an underused candidate that is not split is considered used and dropped. <paramref name="cg"/>
    /// null is the root group's own queue unless <paramref name="everyQueue"/>. Returns the folios split.
    /// </summary>
    internal int DeferredSplitScan(long nrToScan, Memcg.MemCgroup? cg, bool everyQueue = false)
    {
        int split = 0;
        var taken = new List<int>();
        for (int h = NextQueued(_deferredHead, cg, everyQueue); h >= 0 && nrToScan > 0; h = NextQueued(_deferredHead, cg, everyQueue))
        {
            DeferredListDel(h);
            taken.Add(h);
            nrToScan--;
        }
        foreach (int head in taken)
        {
            bool partial = Map.Test(head, PageFlags.PartiallyMapped);
            bool underused = !partial && ThpUnderused(head);
            if (!partial && !underused) continue;
            if (SplitFolio(head))
            {
                split++;
                if (underused) Stats.Count(VmEvent.ThpUnderusedSplitPage);
                continue;
            }
            if (partial) DeferredListAddTail(head);
        }
        return split;
    }

    /// <summary>
    /// The first queued folio from <paramref name="h"/> on that is charged to <paramref name="cg"/>
    /// (null: the root group), the memcg's own split queue (folio_split_queue()); any folio with
    /// <paramref name="everyQueue"/>.
    /// </summary>
    int NextQueued(int h, Memcg.MemCgroup? cg, bool everyQueue = false)
    {
        if (everyQueue) return h;
        while (h >= 0 && MemcgOf(h) != cg) h = Map.Large(h).DeferredNext;
        return h;
    }

    /// <summary>
    /// models thp_underused(): with max_ptes_none below HPAGE_PMD_NR - 1, a folio is underused when
    /// more than max_ptes_none of its pages hold only zeroes (the model knows page contents).
    /// </summary>
    bool ThpUnderused(int head)
    {
        int nr = Geo.PtrsPerPte;
        uint maxNone = Thp.MaxPtesNone;
        if (maxNone == nr - 1) return false;
        int zero = 0, filled = 0;
        for (int p = head; p < head + (1 << Map.Order(head)); p++)
        {
            if (Map.Content(p) == 0)
            {
                if (++zero > maxNone) return true;
            }
            else if (++filled >= nr - maxNone)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>models kswapd(): woken below the low watermark, reclaims towards the high one (runs only when time passes).</summary>
    void Kswapd()
    {
        using var cost = ChargeTo(null, Cost.CostOp.Reclaim);
        var (_, low, high) = WatermarkPages();
        if (Buddy.FreePages >= low) return;
        if (NrFileCachePages > 0) DropFileCache(high - Buddy.FreePages);
        if (Buddy.FreePages >= high) return;
        if (Lru != null) BalancePgdat(high);
        else ReclaimEverything(forceEmpty: false);
    }
}
