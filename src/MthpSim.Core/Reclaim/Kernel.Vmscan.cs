using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Reclaim;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// mm/vmscan.c with the classic LRU (no MGLRU on this kernel): reclaim through the LRU lists, which is
// what swaps: in a memory cgroup (its limit, force_empty), by an allocation (direct reclaim) and by
// kswapd.
public sealed partial class Kernel
{
    /// <summary>vm_swappiness (and memory.swappiness, which a v1 group inherits): 60, as on these machines.</summary>
    const int Swappiness = 60;
    /// <summary>MAX_RECLAIM_RETRIES</summary>
    const int MaxReclaimRetries = 16;
    /// <summary>FLUSH_TIME: the memcg statistics (what reclaim reads as list sizes for its ratios) are flushed every 2 s.</summary>
    const long MemcgStatsFlushMs = 2000;

    /// <summary>
    /// models mem_cgroup_force_empty(): reclaim of one page at a time until nothing is charged or 16
    /// calls in a row reclaimed nothing. <paramref name="target"/> null reclaims from every lruvec
    /// (the <c>reclaim</c> statement). Returns the pages reclaimed.
    /// </summary>
    long ForceEmpty(Memcg.MemCgroup? target)
    {
        LruAddDrain();   // lru_add_drain_all()
        int retries = MaxReclaimRetries;
        long total = 0;
        while (retries > 0 && (target?.UsagePages ?? Buddy.TotalPages - Buddy.FreePages) > 0)
        {
            long got = TryToFreeMemcgPages(target, 1);
            total += got;
            if (got == 0) retries--;
        }
        return total;
    }

    /// <summary>models try_to_free_mem_cgroup_pages() with MEMCG_RECLAIM_MAY_SWAP: at least SWAP_CLUSTER_MAX pages if it can.</summary>
    long TryToFreeMemcgPages(Memcg.MemCgroup? target, long nrPages)
    {
        var sc = new ScanControl { Target = target, NrToReclaim = Math.Max(nrPages, SwapClusterMax) };
        return DoTryToFreePages(sc);
    }

    /// <summary>models try_to_free_pages(): an order-0 allocation's direct reclaim of SWAP_CLUSTER_MAX pages from every lruvec.</summary>
    long TryToFreePages()
    {
        return DoTryToFreePages(new ScanControl { Global = true, NrToReclaim = SwapClusterMax });
    }

    /// <summary>
    /// models balance_pgdat() for order 0: from priority 12 down, age the anon lists
    /// (kswapd_age_node()) and reclaim the high watermark's worth (kswapd_shrink_node()) until free
    /// memory is above the high watermark; the priority drops when a pass scanned less than its goal
    /// or reclaimed nothing.
    /// </summary>
    void BalancePgdat(long highWatermark)
    {
        var sc = new ScanControl { Global = true, Kswapd = true, MemcgFullWalk = true };
        do
        {
            if (Buddy.FreePages > highWatermark) break;   // pgdat_balanced()
            KswapdAgeNode(sc);
            long before = sc.NrReclaimed;
            sc.NrScanned = 0;
            sc.NrToReclaim = Math.Max(highWatermark, SwapClusterMax);
            ShrinkNode(sc);
            bool raisePriority = Math.Max(sc.NrScanned, sc.NrReclaimed - before) < sc.NrToReclaim;
            if (raisePriority || sc.NrReclaimed == before) sc.Priority--;
        } while (sc.Priority >= 1);
    }

    /// <summary>models kswapd_age_node(): with the node's inactive anon list low, 32 pages of every lruvec's active anon list are deactivated.</summary>
    void KswapdAgeNode(ScanControl sc)
    {
        if (!InactiveIsLow(RootLruvec!, LruList.InactiveAnon)) return;
        foreach (var vec in AllLruvecs().ToList()) ShrinkActiveList(SwapClusterMax, vec, sc, LruList.ActiveAnon);
    }

    /// <summary>models do_try_to_free_pages(): priority 12 down to 0 until the goal is met; if nothing was reclaimed, once more with a full walk, then with forced deactivation.</summary>
    long DoTryToFreePages(ScanControl sc)
    {
        int initial = sc.Priority;
        while (true)
        {
            do
            {
                ShrinkNode(sc);
                if (sc.NrReclaimed >= sc.NrToReclaim) break;
            } while (--sc.Priority >= 0);
            if (sc.NrReclaimed > 0) return sc.NrReclaimed;
            if (!sc.MemcgFullWalk) sc.MemcgFullWalk = true;
            else if (sc.SkippedDeactivate) { sc.ForceDeactivate = true; sc.SkippedDeactivate = false; }
            else return 0;
            sc.Priority = initial;
        }
    }

    /// <summary>models shrink_node() → shrink_node_memcgs(): every lruvec under the target, then the shrinkers.</summary>
    void ShrinkNode(ScanControl sc)
    {
        PrepareScanControl(sc);
        var vecs = sc.Target != null ? [sc.Target.Lruvec!] : AllLruvecs().ToList();
        foreach (var vec in vecs)
        {
            ShrinkLruvec(vec, sc);
            ShrinkDeferredSplit(vec, sc.Priority);
            if (!sc.MemcgFullWalk && sc.NrReclaimed >= sc.NrToReclaim) break;
        }
    }

    /// <summary>SHRINK_BATCH: the most a shrinker is asked to scan at once.</summary>
    const long ShrinkBatch = 128;

    /// <summary>
    /// models do_shrink_slab() for the deferred split shrinker (DEFAULT_SEEKS) of one cgroup's queue
    /// (memcg aware: the root group's holds only the folios charged to it): its share at this
    /// priority, (queued >> priority) × 4 / 2, plus the work earlier calls put off, shifted by the
    /// priority, at most twice the queue; scanned in batches of 128 while that is at least a batch or
    /// the whole queue, so a short queue is scanned only once the priority has fallen far enough
    /// (three folios: from priority 1). What is not scanned is put off.
    /// </summary>
    void ShrinkDeferredSplit(Lruvec vec, int priority) => ShrinkDeferredSplit(vec.Memcg, ref vec.SplitShrinkerDeferred, priority);

    void ShrinkDeferredSplit(Memcg.MemCgroup? cg, ref long deferred, int priority)
    {
        long freeable = DeferredQueued(cg);
        if (freeable == 0) return;
        long nr = deferred;
        deferred = 0;
        long delta = (freeable >> priority) * 4 / 2;
        long totalScan = Math.Min((nr >> priority) + delta, 2 * freeable), scanned = 0;
        while (totalScan >= ShrinkBatch || totalScan >= freeable)
        {
            long n = Math.Min(ShrinkBatch, totalScan);
            // SHRINK_STOP: nothing split and the queue has emptied
            if (DeferredSplitScan(n, cg) == 0 && DeferredQueued(cg) == 0) break;
            totalScan -= n;
            scanned += n;
        }
        deferred = Math.Min(Math.Max(nr + delta - scanned, 0), 2 * freeable);
    }

    /// <summary>The root group's nr_deferred for the deferred split shrinker when the model keeps no LRU.</summary>
    long _rootSplitShrinkerDeferred;

    /// <summary>
    /// Without the LRU (no swap), the shrinker part of one round of do_try_to_free_pages() over
    /// <paramref name="cg"/> (null: the group holding every process, whose round visits each group
    /// below it): the deferred split shrinker at every priority from DEF_PRIORITY to 0, with the scan
    /// work each call puts off carried to the next (nr_deferred).
    /// </summary>
    void ShrinkSlabRoundWithoutLru(Memcg.MemCgroup? cg)
    {
        for (int priority = ScanControl.DefPriority; priority >= 0; priority--)
        {
            if (cg != null) { ShrinkDeferredSplit(cg, ref cg.SplitShrinkerDeferred, priority); continue; }
            ShrinkDeferredSplit(null, ref _rootSplitShrinkerDeferred, priority);
            foreach (var g in _memcgs) ShrinkDeferredSplit(g, ref g.SplitShrinkerDeferred, priority);
        }
    }

    /// <summary>deferred_split_count(): folios on the queue of <paramref name="cg"/> (null: the root group's own, folios charged to no group).</summary>
    long DeferredQueued(Memcg.MemCgroup? cg)
    {
        if (_memcgs.Count == 0) return _deferredLen;
        long n = 0;
        for (int h = NextQueued(_deferredHead, cg); h >= 0; h = NextQueued(Map.Large(h).DeferredNext, cg)) n++;
        return n;
    }

    /// <summary>The target's lruvec: the cgroup's, or the root's, which stands for every lruvec.</summary>
    Lruvec TargetLruvec(ScanControl sc) => sc.Target?.Lruvec ?? RootLruvec!;

    /// <summary>models prepare_scan_control(): the costs, whether the active lists may be deactivated (inactive_is_low() on flushed statistics), cache trim mode.</summary>
    void PrepareScanControl(ScanControl sc)
    {
        var target = TargetLruvec(sc);
        sc.AnonCost = target.AnonCost;
        sc.FileCost = target.FileCost;
        if (!sc.ForceDeactivate)
        {
            // Refaults (workingset activations) are not modelled; they would deactivate too.
            sc.MayDeactivateAnon = InactiveIsLow(target, LruList.InactiveAnon);
            sc.MayDeactivateFile = InactiveIsLow(target, LruList.InactiveFile);
        }
        else sc.MayDeactivateAnon = sc.MayDeactivateFile = true;
        sc.CacheTrimMode = (FlushedLruPages(target, LruList.InactiveFile) >> sc.Priority) != 0 && !sc.MayDeactivateFile;
        if (!sc.Global) return;
        // Global reclaim: with little file cache and free memory at the high watermark, anon alone.
        long file = NodeLruPages(LruList.ActiveFile) + NodeLruPages(LruList.InactiveFile);
        sc.FileIsTiny = file + Buddy.FreePages <= WatermarkPages().High && !sc.MayDeactivateAnon
                        && (NodeLruPages(LruList.InactiveAnon) >> sc.Priority) != 0;
    }

    /// <summary>models inactive_is_low(): the inactive list is smaller than the active one over the inactive ratio (√(10 × GB), at least 1).</summary>
    bool InactiveIsLow(Lruvec vec, LruList inactiveList)
    {
        long inactive = FlushedLruPages(vec, inactiveList), active = FlushedLruPages(vec, inactiveList + 1);
        long gb = (inactive + active) >> (30 - PageShift);
        long ratio = gb != 0 ? (long)Math.Sqrt(10.0 * gb) : 1;
        return inactive * ratio < active;
    }

    /// <summary>
    /// lruvec_page_state() of a list: the memcg statistics as last flushed (every 2 s of virtual
    /// time, by the periodic flusher; nothing reclaim reads flushes them sooner). The root's counts
    /// every lruvec, as hierarchical statistics do.
    /// </summary>
    long FlushedLruPages(Lruvec vec, LruList l) => vec.Flushed[(int)l];

    /// <summary>models flush_memcg_stats_dwork(): the statistics catch up with the lists.</summary>
    void FlushMemcgStats()
    {
        if (RootLruvec == null) return;
        for (int l = 0; l < LruLists.Count; l++)
        {
            RootLruvec.Flushed[l] = NodeLruPages((LruList)l);
            foreach (var cg in _memcgs) cg.Lruvec!.Flushed[l] = cg.Lruvec.Pages((LruList)l);
        }
    }

    /// <summary>models shrink_lruvec(): the scan targets of get_scan_count(), worked through 32 pages of each list at a time, then the anon active list aged if its inactive list is low.</summary>
    void ShrinkLruvec(Lruvec vec, ScanControl sc)
    {
        var nr = GetScanCount(vec, sc);
        var targets = (long[])nr.Clone();
        long reclaimed = 0;
        // Direct reclaim at the first priority scans its whole share: kswapd is probably behind.
        bool proportionalReclaim = sc.Global && !sc.Kswapd && sc.Priority == ScanControl.DefPriority;
        while (nr[(int)LruList.InactiveAnon] != 0 || nr[(int)LruList.ActiveFile] != 0 || nr[(int)LruList.InactiveFile] != 0)
        {
            for (int l = 0; l < LruLists.Count; l++)
            {
                if (nr[l] == 0) continue;
                long n = Math.Min(nr[l], SwapClusterMax);
                nr[l] -= n;
                reclaimed += ShrinkList((LruList)l, n, vec, sc);
            }
            if (reclaimed < sc.NrToReclaim || proportionalReclaim) continue;
            // Goal met: scan the rest in proportion to the original targets, once.
            long nrFile = nr[(int)LruList.InactiveFile] + nr[(int)LruList.ActiveFile];
            long nrAnon = nr[(int)LruList.InactiveAnon] + nr[(int)LruList.ActiveAnon];
            if (nrFile == 0 || nrAnon == 0) break;
            int stop, other;
            long percentage;
            if (nrFile > nrAnon)
            {
                percentage = nrAnon * 100 / (targets[(int)LruList.InactiveAnon] + targets[(int)LruList.ActiveAnon] + 1);
                (stop, other) = ((int)LruList.InactiveAnon, (int)LruList.InactiveFile);
            }
            else
            {
                percentage = nrFile * 100 / (targets[(int)LruList.InactiveFile] + targets[(int)LruList.ActiveFile] + 1);
                (stop, other) = ((int)LruList.InactiveFile, (int)LruList.InactiveAnon);
            }
            nr[stop] = nr[stop + 1] = 0;
            for (int l = other; l <= other + 1; l++)
            {
                long scanned = targets[l] - nr[l];
                nr[l] = targets[l] * (100 - percentage) / 100;
                nr[l] -= Math.Min(nr[l], scanned);
            }
        }
        sc.NrReclaimed += reclaimed;
        if (InactiveIsLow(vec, LruList.InactiveAnon)) ShrinkActiveList(SwapClusterMax, vec, sc, LruList.ActiveAnon);
    }

    /// <summary>
    /// models get_scan_count(): anon only with free swap; both types equally at priority 0; anon alone
    /// when the file lists are tiny (global reclaim), the file lists alone in cache trim mode;
    /// otherwise in proportion to swappiness and the lists' costs. Each list's share is its size
    /// shifted down by the priority.
    /// </summary>
    long[] GetScanCount(Lruvec vec, ScanControl sc)
    {
        var nr = new long[LruLists.Count];
        bool fileOnly = false, anonOnly = false, fract = false;
        ulong ap = 0, fp = 0;
        if (!sc.MaySwap || SwapInfo!.Pages - SwapInfo.InUse <= 0) fileOnly = true;   // can_reclaim_anon_pages()
        else if (sc.Priority == 0) { }   // SCAN_EQUAL
        else if (sc.FileIsTiny) anonOnly = true;
        else if (sc.CacheTrimMode) fileOnly = true;
        else
        {
            fract = true;
            // calculate_pressure_balance()
            ulong total = sc.AnonCost + sc.FileCost;
            ulong anonCost = total + sc.AnonCost, fileCost = total + sc.FileCost;
            total = anonCost + fileCost;
            ap = Swappiness * (total + 1) / (anonCost + 1);
            fp = (200 - Swappiness) * (total + 1) / (fileCost + 1);
        }
        for (int l = 0; l < LruLists.Count; l++)
        {
            bool file = LruLists.IsFile((LruList)l);
            long scan = vec.Pages((LruList)l) >> sc.Priority;
            if (fract) scan = (long)((ulong)scan * (file ? fp : ap) / (ap + fp));
            else if ((fileOnly && !file) || (anonOnly && file)) scan = 0;
            nr[l] = scan;
        }
        return nr;
    }

    /// <summary>models shrink_list(): an active list is aged only when prepare_scan_control() allowed it.</summary>
    long ShrinkList(LruList l, long nrToScan, Lruvec vec, ScanControl sc)
    {
        if (LruLists.IsActive(l))
        {
            if (LruLists.IsFile(l) ? sc.MayDeactivateFile : sc.MayDeactivateAnon) ShrinkActiveList(nrToScan, vec, sc, l);
            else sc.SkippedDeactivate = true;
            return 0;
        }
        return ShrinkInactiveList(nrToScan, vec, sc, l);
    }

    /// <summary>models isolate_lru_folios(): whole folios from the tail until nrToScan pages were looked at. Returns them oldest first.</summary>
    List<int> IsolateLruFolios(long nrToScan, Lruvec vec, LruList l, out long scanned)
    {
        var taken = new List<int>();
        scanned = 0;
        while (scanned < nrToScan && vec.Tail[(int)l] >= 0)
        {
            int head = vec.Tail[(int)l];
            scanned += 1 << Map.Order(head);
            IsolateFolio(head);
            taken.Add(head);
        }
        return taken;
    }

    /// <summary>models folio_isolate_lru(): off its list, held by reclaim.</summary>
    void IsolateFolio(int head)
    {
        if (Lru == null || !Lru.OnLru(head)) return;
        Lru.Del(LruvecOf(head), head, 1 << Map.Order(head));
        Lru.MarkIsolated(head);
    }

    /// <summary>
    /// folio_putback_lru() / move_folios_to_lru(): an isolated folio still alive goes back to the
    /// head of its list, activated first if reclaim said so (activate_locked: pgactivate), or to the
    /// tail when writeback will have rotated it there (folio_rotate_reclaimable()).
    /// </summary>
    void PutbackFolio(int head, bool activate = false, bool tail = false)
    {
        if (Lru == null || !Lru.IsIsolated(head)) return;
        int nr = 1 << Map.Order(head);
        if (activate)
        {
            // activate_locked: a folio that will not go out gives its swap space back when swap is short
            if (InSwapCache(head) && SwapInfo!.Full) FolioFreeSwap(head);
            Map.Set(head, PageFlags.Active);
            Stats.Count(VmEvent.Pgactivate, nr);
            WorkingsetAgeNonresident(LruvecOf(head), nr);   // move_folios_to_lru() of an active folio
        }
        Lru.ClearIsolated(head);
        if (tail) Lru.AddTail(LruvecOf(head), FolioLruList(head), head, nr);
        else Lru.AddHead(LruvecOf(head), FolioLruList(head), head, nr);
    }

    /// <summary>models shrink_inactive_list(): isolate from the tail, shrink_folio_list(), put back what stays; pgscan/pgsteal and the list's cost.</summary>
    long ShrinkInactiveList(long nrToScan, Lruvec vec, ScanControl sc, LruList l)
    {
        bool file = LruLists.IsFile(l);
        LruAddDrain();
        var taken = IsolateLruFolios(nrToScan, vec, l, out long scanned);
        if (sc.Global) Stats.Count(sc.Kswapd ? VmEvent.PgscanKswapd : VmEvent.PgscanDirect, scanned);
        Stats.Count(file ? VmEvent.PgscanFile : VmEvent.PgscanAnon, scanned);
        if (taken.Count == 0) return 0;
        foreach (int head in taken) sc.NrScanned += 1 << Map.Order(head);
        sc.NrPageout = 0;
        long reclaimed = 0;
        foreach (int head in taken) reclaimed += ShrinkFolio(head, sc, checkReferences: true);
        if (sc.Global) Stats.Count(sc.Kswapd ? VmEvent.PgstealKswapd : VmEvent.PgstealDirect, reclaimed);
        Stats.Count(file ? VmEvent.PgstealFile : VmEvent.PgstealAnon, reclaimed);
        LruNoteCost(vec, file, sc.NrPageout, scanned - reclaimed);
        return reclaimed;
    }

    /// <summary>
    /// models shrink_active_list(): folios from the tail of an active list lose their young bits
    /// (folio_referenced()) and go to the inactive list, oldest first (anon folios are deactivated
    /// referenced or not); pgdeactivate, and pgrefill for global reclaim.
    /// </summary>
    void ShrinkActiveList(long nrToScan, Lruvec vec, ScanControl sc, LruList l)
    {
        LruAddDrain();
        var taken = IsolateLruFolios(nrToScan, vec, l, out long scanned);
        if (sc.Global) Stats.Count(VmEvent.Pgrefill, scanned);
        long deactivated = 0;
        foreach (int head in taken)
        {
            FolioReferenced(head, FolioMappingRuns(head), sc);
            Map.Clear(head, PageFlags.Active);
            PutbackFolio(head);
            deactivated += 1 << Map.Order(head);
        }
        Stats.Count(VmEvent.Pgdeactivate, deactivated);
    }

    /// <summary>models lru_note_cost_unlock_irq(): the cost of reclaim from one type, up the hierarchy, halved when it outgrows a quarter of the lists.</summary>
    void LruNoteCost(Lruvec vec, bool file, long nrIo, long nrRotated)
    {
        ulong cost = (ulong)(nrIo * SwapClusterMax + nrRotated);
        if (cost == 0) return;
        for (var v = vec; v != null; v = v.Parent)
        {
            if (file) v.FileCost += cost; else v.AnonCost += cost;
            long size = 0;
            for (int l = 0; l < LruLists.Count; l++) size += FlushedLruPages(v, (LruList)l);
            if (v.FileCost + v.AnonCost > (ulong)(size / 4))
            {
                v.FileCost /= 2;
                v.AnonCost /= 2;
            }
        }
    }

    /// <summary>folio_check_references() outcomes (FOLIOREF_RECLAIM_CLEAN behaves as RECLAIM for anon folios).</summary>
    enum FolioReference { Reclaim, Keep, Activate }

    /// <summary>
    /// models folio_check_references(): a folio referenced through a page table is kept for one more
    /// trip (PG_referenced set), activated if it was already marked or more than one VMA used it;
    /// an unreferenced one is reclaimed.
    /// </summary>
    FolioReference FolioCheckReferences(int head, List<FolioMapping> mappings, ScanControl sc)
    {
        int referencedPtes = FolioReferenced(head, mappings, sc);
        bool referencedFolio = Map.Test(head, PageFlags.Referenced);
        Map.Clear(head, PageFlags.Referenced);
        if (referencedPtes == 0) return FolioReference.Reclaim;
        Map.Set(head, PageFlags.Referenced);
        return referencedFolio || referencedPtes > 1 ? FolioReference.Activate : FolioReference.Keep;
    }

    /// <summary>
    /// models folio_referenced(): clears the young bit of every PTE and PMD mapping the folio and
    /// counts the VMAs where one was set. Cgroup reclaim ignores mappings of processes outside the
    /// target (invalid_folio_referenced_vma()).
    /// </summary>
    int FolioReferenced(int head, List<FolioMapping> mappings, ScanControl sc)
    {
        if (Map.FolioMapcount(head) == 0) return 0;
        int referenced = 0;
        Vma.Vma? last = null;
        bool young = false;
        foreach (var (vma, addr, pages, pmdMapped) in mappings)
        {
            if (vma != last)
            {
                if (young) referenced++;
                last = vma;
                young = false;
            }
            if (sc.Target != null && vma.Mm.Memcg != sc.Target) continue;
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr))!;
            if (pmdMapped)
            {
                // pmdp_clear_flush_young(): one young bit for the whole mapping
                young |= Pte.IsYoung(slot.Leaf);
                slot.Leaf &= ~Pte.Young;
                continue;
            }
            for (int i = PteIndex(addr), end = i + pages; i < end; i++)
            {
                young |= Pte.IsYoung(slot.Ptes![i]);
                ContClearAccessBits(slot, i, 1, Pte.Young);   // ptep_clear_flush_young(): a folded block's whole
            }
        }
        if (young) referenced++;
        return referenced;
    }
}
