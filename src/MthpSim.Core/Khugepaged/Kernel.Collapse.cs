using MthpSim.Core.Folio;
using MthpSim.Core.Khugepaged;
using MthpSim.Core.Khugepaged.Policies;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/khugepaged.c: scanning one PMD window and collapsing ranges of it (anonymous memory).
public sealed partial class Kernel
{
    readonly TraceRing<KhugepagedTraceEvent> _trace = new(DefaultTraceEvents);
    ICollapsePolicy _collapsePolicy = new PmdOnlyPolicy();

    /// <summary>Events the scan trace keeps by default: about the kernel's default per-CPU trace buffer (1.4 MB).</summary>
    public const int DefaultTraceEvents = 16384;

    /// <summary>
    /// The latest PMD windows scanned and collapses attempted (khugepaged and MADV_COLLAPSE), oldest
    /// first; a ring of <see cref="TraceRing{T}.Capacity"/> events, as the kernel's trace buffer.
    /// </summary>
    public TraceRing<KhugepagedTraceEvent> KhugepagedTrace => _trace;

    /// <summary>What the collapse designs are compared on, since the machine started.</summary>
    public CollapseMetrics CollapseMetrics { get; private set; } = null!;

    /// <summary>What khugepaged's work costs in CPU time (its rounds take that long before it sleeps again).</summary>
    public CollapseCostModel CollapseCost { get; set; } = CollapseCostModel.Default;

    /// <summary>The khugepaged collapse design (<c>policy collapse = NAME</c>); Linux 6.18's pmd-only by default.</summary>
    public ICollapsePolicy CollapsePolicy
    {
        get => _collapsePolicy;
        set
        {
            _collapsePolicy = value;
            KhugepagedSettingsChanged(sleepTimes: false);
        }
    }

    /// <summary>
    /// models find_pmd_or_thp_or_none(): no page table below the PUD → SCAN_PMD_NULL, an empty PMD →
    /// SCAN_PMD_NONE, a PMD mapping (THP or huge zero page) → SCAN_PMD_MAPPED.
    /// </summary>
    internal ScanResult FindPmdOrThpOrNone(MmStruct mm, ulong address, out PmdSlot? slot)
    {
        long index = PmdIndex(address);
        slot = mm.PageTables.Find(index);
        if (slot == null || slot.Kind == PmdKind.None)
        {
            // mm_find_pmd() fails when the PUD entry above is not populated: no PMD page there.
            return mm.PageTables.HasPmdPage(index) ? ScanResult.PmdNone : ScanResult.PmdNull;
        }
        return slot.Kind is PmdKind.Huge or PmdKind.HugeZero ? ScanResult.PmdMapped : ScanResult.Succeed;
    }

    /// <summary>
    /// models hpage_collapse_scan_pmd() for one PMD window: khugepaged hands the window to the
    /// collapse policy; MADV_COLLAPSE uses Linux 6.18's PMD collapse unless the policy offers it orders.
    /// <paramref name="mmapLocked"/> becomes false once a collapse was attempted (collapse_huge_page()
    /// drops mmap_lock).
    /// </summary>
    internal ScanResult HpageCollapseScanPmd(Vma.Vma vma, ulong address, CollapseControl cc, out bool mmapLocked)
    {
        ulong madvOrders = cc.IsKhugepaged ? 0 : _collapsePolicy.MadviseCollapseOrders(this, vma);
        var policy = cc.IsKhugepaged || madvOrders != 0 ? _collapsePolicy : PmdOnlyPolicy.Instance;
        ulong orders = cc.IsKhugepaged ? policy.KhugepagedOrders(this, vma) : madvOrders != 0 ? madvOrders : 1UL << Geo.PmdOrder;
        var w = new PmdWindow(this, vma, address, cc.IsKhugepaged, orders);
        CollapseMetrics.PmdWindows++;
        _collapseAttempted = false;
        var result = w.PmdState == ScanResult.Succeed ? policy.CollapseWindow(w) : w.PmdState;
        mmapLocked = !_collapseAttempted;
        var s = w.LastScan;
        _trace.Add(new KhugepagedTraceEvent(NowMs, vma.Mm.Name, vma.Mm.Pid, address, result, s?.Referenced ?? 0, s?.NoneOrZero ?? 0,
            s?.Unmapped ?? 0, s?.Shared ?? 0, cc.IsKhugepaged, ScanPfn: s?.LastFolio ?? -1));
        return result;
    }

    bool _collapseAttempted;

    /// <summary>The occupancy buffer every PmdWindow of this machine shares (windows are scanned one at a time).</summary>
    internal bool[] ScanPresent => _scanPresent ??= new bool[1 << Geo.PmdOrder];
    bool[]? _scanPresent;

    /// <summary>
    /// The per-PTE loop of hpage_collapse_scan_pmd() over [from, from + count) of a window: none and
    /// zero-page entries, shared folios, extra references, young pages, under the given limits.
    /// Stops at the first limit exceeded, as the kernel does; swap entries count as unmapped.
    /// </summary>
    internal WindowScan ScanPteRange(PmdWindow w, int from, int count, CollapseLimits limits, bool countVmEvents, int stopAtFolioOrder = -1)
    {
        var s = new WindowScan { Result = ScanResult.Succeed };
        var ptes = w.Slot!.Ptes!;
        var present = w.Present;
        bool armed = UserfaultfdArmed(w.Vma);
        Array.Clear(present, from, count);
        int i = from, end = from + count;
        // Pages of order-0 folios mapped once with no other reference pass every check the same way.
        bool smallRuns = stopAtFolioOrder != 0 && SwapCache is not { Pages: > 0 }, trySmall = smallRuns;
        while (i < end)
        {
            if (trySmall)
            {
                var (next, referenced, last) = ScanExclusiveSmallRun(ptes, present, i, end, w.IsKhugepaged);
                if (next > i) (i, s.Referenced, s.LastFolio) = (next, s.Referenced + referenced, last);
                if (i == end) break;
            }
            ulong pte = ptes[i];
            if (Pte.IsSwap(pte))
            {
                s.Unmapped++;
                i++;
                if (!w.IsKhugepaged || s.Unmapped <= limits.MaxPtesSwap)
                {
                    if (!Pte.IsUffdWp(pte)) continue;
                    s.Result = ScanResult.PteUffdWp;   // pte_swp_uffd_wp_any()
                    break;
                }
                CountScanExceed(countVmEvents, VmEvent.ThpScanExceedSwapPte, MthpStat.CollapseExceedSwapPte);
                s.Result = ScanResult.ExceedSwapPte;
                break;
            }
            if (Pte.IsNone(pte) || Pte.IsZero(pte))
            {
                s.NoneOrZero++;
                i++;
                // A range registered with userfaultfd never has its missing pages filled by a collapse.
                if (!armed && (!w.IsKhugepaged || s.NoneOrZero <= limits.MaxPtesNone)) continue;
                CountScanExceed(countVmEvents, VmEvent.ThpScanExceedNonePte, MthpStat.CollapseExceedNonePte);
                s.Result = ScanResult.ExceedNonePte;
                break;
            }
            if (Pte.IsUffdWp(pte)) { s.Result = ScanResult.PteUffdWp; i++; break; }
            // What the kernel reads per page of a folio is the same for every page of it: look at the
            // folio once, then walk the PTEs that map its following pages in order.
            int pfn = Pte.Pfn(pte);
            var (kind, order) = Map.KindAndOrder(pfn);
            int head = pfn & ~((1 << order) - 1);
            s.LastFolio = head;
            trySmall = smallRuns && order == 0;   // after a large folio, most likely another
            if (kind != PageKind.Anon) { s.Result = ScanResult.PageAnon; i++; break; }
            if (order > s.LargestFolioOrder) s.LargestFolioOrder = order;
            if (stopAtFolioOrder >= 0 && order >= stopAtFolioOrder) { s.Result = ScanResult.PteMappedHugepage; i++; break; }
            bool shared, extraRefs;
            if (order == 0)
            {
                int mapcount = Map.PteMapcount(pfn);
                shared = mapcount > 1;
                extraRefs = Map.Refcount(pfn) != mapcount + (InSwapCache(pfn) ? 1 : 0);
            }
            else
            {
                // A page counts as shared when any part of its folio may be mapped by another mm.
                shared = FolioMaybeMappedShared(head);
                // folio_expected_ref_count(): only the mappings may hold references (a pin makes it fail).
                extraRefs = Map.Refcount(head) != ExpectedRefcount(head);
            }
            int folioEnd = head + (1 << order);
            if (!shared && !extraRefs)
            {
                var (next, referenced) = ScanFolioPages(ptes, present, i, end, pfn, folioEnd, w.IsKhugepaged, head);
                (i, s.Referenced) = (next, s.Referenced + referenced);
                continue;
            }
            while (true)
            {
                if (shared && ++s.Shared > limits.MaxPtesShared && w.IsKhugepaged)
                {
                    CountScanExceed(countVmEvents, VmEvent.ThpScanExceedSharePte, MthpStat.CollapseExceedSharedPte);
                    s.Result = ScanResult.ExceedSharedPte;
                    break;
                }
                if (extraRefs) { s.Result = ScanResult.PageCount; break; }
                if (w.IsKhugepaged && (Pte.IsYoung(pte) || Map.Test(head, PageFlags.Referenced))) s.Referenced++;
                present[i++] = true;
                if (++pfn == folioEnd || i == end) break;
                pte = ptes[i];
                if (!Pte.IsNormal(pte) || Pte.Pfn(pte) != pfn || Pte.IsUffdWp(pte)) break;
            }
            if (s.Result != ScanResult.Succeed) { i++; break; }
        }
        CollapseMetrics.PtesExamined += i - from;
        Work(Cost.KernelWork.ScanPtes, i - from);
        return s;
    }

    /// <summary>
    /// The PTE loop of <see cref="ScanPteRange"/> over a run of present entries that map order-0
    /// anonymous folios mapped once and held by nothing else (the swap cache being empty): each is
    /// neither shared nor pinned, so it only counts as present (and, for khugepaged, as young or
    /// referenced). Returns the first entry it leaves to the general loop.
    /// </summary>
    (int Next, int Referenced, int Last) ScanExclusiveSmallRun(ulong[] ptes, bool[] present, int i, int end, bool countYoung)
    {
        int referenced = 0, last = -1;
        for (; i < end; i++)
        {
            ulong pte = ptes[i];
            if ((pte & (Pte.Present | Pte.Special | Pte.UffdWp)) != Pte.Present) break;
            int pfn = Pte.Pfn(pte);
            if (!Map.IsSmallAnon(pfn, SmallMapped.Exclusive)) break;
            if (countYoung && (Pte.IsYoung(pte) || Map.Test(pfn, PageFlags.Referenced))) referenced++;
            present[i] = true;
            last = pfn;
        }
        return (i, referenced, last);
    }

    /// <summary>
    /// The inner loop of <see cref="ScanPteRange"/> over the pages of one folio that is neither shared
    /// nor pinned, mapped in order from entry <paramref name="i"/>: each counts as present (and, for
    /// khugepaged, as young or referenced) until the folio, the range or the run of its pages ends.
    /// </summary>
    (int Next, int Referenced) ScanFolioPages(ulong[] ptes, bool[] present, int i, int end, int pfn, int folioEnd, bool countYoung, int head)
    {
        int referenced = 0;
        bool headReferenced = countYoung && Map.Test(head, PageFlags.Referenced);
        ulong pte = ptes[i];
        while (true)
        {
            if (countYoung && (Pte.IsYoung(pte) || headReferenced)) referenced++;
            present[i++] = true;
            if (++pfn == folioEnd || i == end) break;
            pte = ptes[i];
            if (!Pte.IsNormal(pte) || Pte.Pfn(pte) != pfn || Pte.IsUffdWp(pte)) break;
        }
        return (i, referenced);
    }

    /// <summary>
    /// A limit exceeded in the PMD scan: the thp_scan_exceed_* event, and under a design with per-size
    /// collapse statistics the PMD size's collapse_exceed_* too (v19 counts both in the scan).
    /// </summary>
    void CountScanExceed(bool countVmEvents, VmEvent ev, MthpStat stat)
    {
        if (!countVmEvents) return;
        Stats.Count(ev);
        if (_collapsePolicy.HasCollapseStats) Stats.Count(Geo.PmdOrder, stat);
    }

    /// <summary>
    /// models collapse_huge_page() at an order for [offset, offset + 2^order) of a window: the
    /// isolate checks again under the order's limits (__collapse_huge_page_isolate(); sub-PMD
    /// collapse skips a range that already holds a folio of that order or larger), allocation,
    /// copy (none and zero pages become zeroes), the old pages unmapped in batches per folio, and the
    /// new folio mapped by a PMD (with the old page table deposited) or by PTEs.
    /// </summary>
    internal ScanResult CollapseRange(PmdWindow w, int offset, int order, CollapseLimits limits)
    {
        var m = CollapseMetrics;
        int nr = 1 << order;
        bool pmd = order == Geo.PmdOrder;
        bool perOrderStats = _collapsePolicy.HasCollapseStats && w.IsKhugepaged;
        // alloc_charge_folio() counts collapse_alloc{,_failed} for every caller, MADV_COLLAPSE included
        bool allocStats = _collapsePolicy.HasCollapseStats;
        bool anonAllocStats = _collapsePolicy.HasAnonCollapseAllocStats && !pmd;   // the per-order RFC: below the PMD size only
        bool vmEvents = pmd || _collapsePolicy.VmEventsAtEveryOrder;
        var ptes = w.Slot!.Ptes!;
        int none = 0, shared = 0, referenced = 0;
        int folio = -1;
        bool tracesOrder = _collapsePolicy.TracesOrder;
        ulong address = w.Address + ((ulong)offset << PageShift);
        KhugepagedTraceEvent Event(KhugepagedTraceKind kind, ScanResult r, int refs, int swappedIn = 0, long pfn = -1) =>
            new(NowMs, w.Vma.Mm.Name, w.Vma.Mm.Pid, address, r, refs, none, swappedIn, shared, w.IsKhugepaged, order, pfn, Kind: kind, PrintsOrder: tracesOrder);
        ScanResult Fail(ScanResult r, MthpStat? stat = null, VmEvent? ev = null)
        {
            if (stat is MthpStat st && perOrderStats) Stats.Count(order, st);
            if (ev is VmEvent e && vmEvents) Stats.Count(e);   // the RFC designs count them at every order
            if (folio >= 0 && r != ScanResult.Succeed) FolioPut(folio);   // the attempt's folio goes back
            _trace.Add(Event(KhugepagedTraceKind.Collapse, r, referenced));
            return r;
        }
        // __collapse_huge_page_isolate() traces how it ended, with the last folio it looked at.
        long isolatedPfn = -1;
        ScanResult IsolateFail(ScanResult r, MthpStat? stat = null, VmEvent? ev = null)
        {
            _trace.Add(Event(KhugepagedTraceKind.Isolate, r, referenced, pfn: isolatedPfn));
            return Fail(r, stat, ev);
        }

        // alloc_charge_folio() comes first: an attempt that then fails has still allocated.
        _collapseAttempted = true;
        m.CollapseAttempts++;
        Work(Cost.KernelWork.CollapseAttempts);
        folio = AllocFolio(order, PageKind.Anon, CollapseGfp(new CollapseControl(w.IsKhugepaged)));
        if (folio < 0)
        {
            if (vmEvents) Stats.Count(VmEvent.ThpCollapseAllocFailed);
            if (allocStats) Stats.Count(order, MthpStat.CollapseAllocFailed);
            if (anonAllocStats) Stats.Count(order, MthpStat.AnonCollapseAllocFailed);
            return Fail(ScanResult.AllocHugePageFail);
        }
        if (vmEvents) Stats.Count(VmEvent.ThpCollapseAlloc);
        if (allocStats) Stats.Count(order, MthpStat.CollapseAlloc);
        if (anonAllocStats) Stats.Count(order, MthpStat.AnonCollapseAlloc);
        if (!MemcgCharge(folio, w.Vma.Mm, CollapseChargeGfp(new CollapseControl(w.IsKhugepaged))))
        {
            FolioPut(folio);
            folio = -1;
            return Fail(ScanResult.CgroupChargeFail);
        }
        // __collapse_huge_page_swapin() runs when the scan met swap entries (the count the scan made,
        // not what the charge's reclaim has swapped out since), and traces what it did.
        if (w.LastScan is { } scan ? scan.Unmapped > 0 : RangeHasSwap(w, offset, order))
        {
            var swapin = CollapseSwapin(w, offset, order, out int swappedIn);
            _trace.Add(Event(KhugepagedTraceKind.Swapin, swapin ?? ScanResult.Succeed, w.LastScan?.Referenced ?? 0, swappedIn));
            if (swapin is ScanResult failed)
                return Fail(failed, failed == ScanResult.ExceedSwapPte ? MthpStat.CollapseExceedSwapPte : null);
        }

        // __collapse_huge_page_isolate(): the checks again, under this order's limits.
        for (int i = offset; i < offset + nr; i++)
        {
            m.IsolatePtes++;
            Work(Cost.KernelWork.ScanPtes);
            ulong pte = ptes[i];
            if (Pte.IsNone(pte) || Pte.IsZero(pte))
            {
                if (++none > limits.MaxPtesNone && w.IsKhugepaged || UserfaultfdArmed(w.Vma))
                    return IsolateFail(ScanResult.ExceedNonePte, MthpStat.CollapseExceedNonePte, VmEvent.ThpScanExceedNonePte);
                continue;
            }
            // An entry swapped in above may have gone out again (reclaim for the next one's charge).
            if (!Pte.IsNormal(pte)) return IsolateFail(ScanResult.PteNonPresent);
            if (Pte.IsUffdWp(pte)) return IsolateFail(ScanResult.PteUffdWp);
            int head = Map.HeadOf(Pte.Pfn(pte));
            isolatedPfn = head;
            if (FolioMaybeMappedShared(head) && ++shared > limits.MaxPtesShared && w.IsKhugepaged)
                return IsolateFail(ScanResult.ExceedSharedPte, MthpStat.CollapseExceedSharedPte, VmEvent.ThpScanExceedSharePte);
            if (limits.SkipIfLargerFolio && !pmd && Map.Order(head) >= order) return IsolateFail(ScanResult.PteMappedHugepage);
            if (Map.Refcount(head) != ExpectedRefcount(head)) return IsolateFail(ScanResult.PageCount);
            if (w.IsKhugepaged && (Pte.IsYoung(pte) || Map.Test(head, PageFlags.Referenced))) referenced++;   // MADV_COLLAPSE counts none
        }
        if (w.IsKhugepaged && referenced == 0) return IsolateFail(ScanResult.LackReferencedPage);
        _trace.Add(Event(KhugepagedTraceKind.Isolate, ScanResult.Succeed, referenced, pfn: isolatedPfn));

        MmStruct mm = w.Vma.Mm;
        for (int i = 0; i < nr; i++)
            if (Pte.IsNormal(ptes[offset + i])) Map.SetContent(folio + i, Map.Content(Pte.Pfn(ptes[offset + i])));
        // __collapse_huge_page_copy_succeeded(): none/zero entries count into RSS now; mapped pages
        // leave in batches per folio, their RSS taken over by the new folio.
        // pmdp_collapse_flush() takes the whole table; the cont bits of the range go with its entries
        if (pmd) ContForget(w.Slot);
        else ContClearPtes(w.Slot, offset, nr);
        int k = offset;
        while (k < offset + nr)
        {
            ulong pte = ptes[k];
            if (!Pte.IsNormal(pte))
            {
                mm.Rss[(int)RssMember.AnonPages]++;
                ptes[k++] = 0;
                continue;
            }
            int pfn = Pte.Pfn(pte);
            int head = Map.HeadOf(pfn);
            int end = head + (1 << Map.Order(head));
            int run = FolioPteBatch(ptes, k, offset + nr, pfn, end);
            Array.Clear(ptes, k, run);
            FolioRemoveRmapPtes(head, pfn, run, mm);
            FreeSwapCache(head);
            FolioPut(head, run);
            k += run;
        }
        ulong addr = w.Address + ((ulong)offset << PageShift);
        ulong flags = Pte.Young | Pte.Dirty | ((w.Vma.Flags & VmFlags.Write) != 0 ? Pte.Write : 0);
        if (pmd)
        {
            // The PTE table is deposited under the new PMD (pgtable_trans_huge_deposit()).
            FolioAddNewAnonRmap(folio, w.Vma, addr, pmdMapped: true);
            w.Slot.Kind = PmdKind.Huge;
            w.Slot.Leaf = Pte.Make(folio, flags);
            DeferredSplitFolio(folio, partiallyMapped: false);
        }
        else
        {
            // map_anon_folio_pte_nopf(): one reference per PTE, the range mapped by PTEs.
            Map.AddRef(folio, nr - 1);
            FolioAddNewAnonRmap(folio, w.Vma, addr, pmdMapped: false);
            for (int i = 0; i < nr; i++) ptes[offset + i] = Pte.Make(folio + i, flags);
            ContSetPtes(w.Slot, offset, nr);
            if (_collapsePolicy.QueuesCollapsedBelowPmdSize) DeferredSplitFolio(folio, partiallyMapped: false);
        }
        m.BloatBytes += (long)none * Geo.PageSize;
        m.PagesZeroed += none;
        m.PagesCopied += nr - none;
        Work(Cost.KernelWork.PagesZeroed, none);
        Work(Cost.KernelWork.PagesCopied, nr - none);
        SetPtesWork(pmd ? 1 : nr);
        Work(Cost.KernelWork.TlbFlushes);   // pmdp_collapse_flush()
        m.RecordCollapse(mm.Id, addr, (ulong)Geo.PageSize << order, order);
        return Fail(ScanResult.Succeed);
    }

    /// <summary>
    /// models __collapse_huge_page_swapin(): each swap entry of the range is swapped in by a read fault
    /// (do_swap_page(), a major fault without the task's accounting). Null when all came in. A range
    /// below the PMD size swaps nothing in unless the design says so (the RFCs did; the upstream series
    /// does not): its first swap entry fails it with SCAN_EXCEED_SWAP_PTE, as swapping in would feed creep.
    /// </summary>
    ScanResult? CollapseSwapin(PmdWindow w, int offset, int order, out int swappedIn)
    {
        var ptes = w.Slot!.Ptes!;
        swappedIn = 0;
        for (int i = offset; i < offset + (1 << order); i++)
        {
            if (!Pte.IsSwap(ptes[i])) continue;
            if (order < Geo.PmdOrder && !_collapsePolicy.SwapInBelowPmdSize) return ScanResult.ExceedSwapPte;
            if (DoSwapPage(w.Vma, w.Slot, w.Address + ((ulong)i << PageShift), write: false) != Fault.FaultResult.Ok) return ScanResult.Fail;
            swappedIn++;
        }
        // the pages swapped in go to the lists before they are isolated (a failed swap-in drains nothing)
        if (swappedIn > 0) LruAddDrain();
        return null;
    }

    static bool RangeHasSwap(PmdWindow w, int offset, int order)
    {
        foreach (ulong pte in w.Slot!.Ptes!.AsSpan(offset, 1 << order))
            if (Pte.IsSwap(pte)) return true;
        return false;
    }

    /// <summary>models madvise_collapse_errno()</summary>
    static long MadviseCollapseErrno(ScanResult r) => r switch
    {
        ScanResult.AllocHugePageFail => -Errno.ENOMEM,
        ScanResult.CgroupChargeFail or ScanResult.ExceedNonePte => -Errno.EBUSY,
        ScanResult.PageCount or ScanResult.PageLock or ScanResult.PageLru or ScanResult.DelPageLru or ScanResult.PageFilled => -Errno.EAGAIN,
        _ => -Errno.EINVAL,
    };

    /// <summary>
    /// models madvise_collapse() for one VMA: every PMD-aligned block inside [start, end) is collapsed
    /// now, ignoring the sysfs settings, max_ptes_* and the young-page rule. Some failures let it go on
    /// to the next block, others stop it; 0 only if every block ended PMD-mapped.
    /// </summary>
    long MadviseCollapse(Vma.Vma vma, ulong start, ulong end)
    {
        if (ThpVmaAllowableOrders(vma, TvaType.ForcedCollapse, 1UL << Geo.PmdOrder) == 0) return -Errno.EINVAL;
        LruAddDrain();   // lru_add_drain_all()
        ulong pmdSize = (ulong)Geo.PmdSize;
        ulong hstart = (start + pmdSize - 1) & ~(pmdSize - 1), hend = end & ~(pmdSize - 1);
        int thps = 0;
        var lastFail = ScanResult.Fail;
        var cc = new CollapseControl(IsKhugepaged: false);
        for (ulong addr = hstart; addr < hend; addr += pmdSize)
        {
            ScanResult result;
            if (vma.File != null)
            {
                result = HpageCollapseScanFile(vma.Mm, addr, vma.File, LinearPageIndex(vma, addr), cc);
                if (result == ScanResult.PteMappedHugepage) result = CollapsePteMappedThp(vma.Mm, addr, installPmd: true);
            }
            else result = HpageCollapseScanPmd(vma, addr, cc, out _);
            if (result is ScanResult.Succeed or ScanResult.PmdMapped) { thps++; continue; }
            lastFail = result;
            // The results after which the next block is still tried.
            if (result is not (ScanResult.PmdNull or ScanResult.PteNonPresent or ScanResult.PteUffdWp or ScanResult.LackReferencedPage
                or ScanResult.PageNull or ScanResult.PageCount or ScanResult.PageLock or ScanResult.PageCompound
                or ScanResult.PageLru or ScanResult.DelPageLru))
                break;
        }
        // Unsigned, as in the kernel: for a range inside one PMD hstart > hend, the count wraps, the
        // comparison fails and the result is -EINVAL; only hstart == hend gives 0 (checked live).
        ulong blocks = unchecked(hend - hstart) >> (Geo.PageShift + Geo.PmdOrder);
        return (ulong)thps == blocks ? 0 : MadviseCollapseErrno(lastFail);
    }
}
