namespace MthpSim.Core.Khugepaged.Policies;

/// <summary>
/// The January 2025 bitmap RFC (Nico Pache, "[RFC 00/11] khugepaged: mTHP support", 2025-01-08):
/// khugepaged only runs, registers and scans where the PMD size is allowed; one scan per window
/// without a max_ptes_none limit fills a bitmap with one bit per 8-page chunk (MIN_MTHP_ORDER 3),
/// set when all 8 pages are mapped anon pages; max_ptes_none becomes a percentage of chunks, with
/// the RFC's integer arithmetic; a depth-first traversal (an explicit stack, left half first) tries
/// each enabled order from the PMD down to 32K. Modelled with the fix the author agreed to in review
/// (Dev Jain, 2025-01-10): a failed collapse goes on to the two halves (as posted, any failure dropped
/// the subtree). Non-enabled orders are skipped (the posted test had an operator-precedence slip).
/// Collapse limits are not scaled by order; thp_collapse_alloc and the thp_scan_exceed_* events of
/// isolation count every order; no per-order stats. MADV_COLLAPSE goes through the same walk (the
/// RFC merged the madvise and khugepaged paths), offered every anonymous order from 32K up whatever
/// the sysfs settings; without khugepaged's young-page requirement, with the same chunk threshold.
/// Swap entries (within the PMD-wide max_ptes_swap) are swapped in at every order, as the RFC
/// generalized __collapse_huge_page_swapin() (its v2 dropped that: creep), and the scan keeps 6.18's
/// young-page rule: with swap entries, half the window must be young. Every collapsed folio goes on
/// the deferred split queue, whatever its order (deferred_split_folio() after every collapse).
/// </summary>
/// <remarks>
/// <c>asPosted</c> (<c>mthp-bitmap-rfc-as-posted</c>) is the patch exactly as posted: a failed collapse
/// drops its subtree (the halves are never tried), and the "order enabled" test, through its
/// operator-precedence slip, takes every order from the PMD down to 32K as enabled.
/// </remarks>
public sealed class BitmapRfcPolicy(bool asPosted = false) : ICollapsePolicy
{
    const int MinMthpOrder = 3;

    public string Name => asPosted ? "mthp-bitmap-rfc-as-posted" : "mthp-bitmap-rfc";
    public bool HasCollapseStats => false;
    public bool VmEventsAtEveryOrder => true;
    public bool SwapInBelowPmdSize => true;
    public bool QueuesCollapsedBelowPmdSize => true;

    public bool KhugepagedEnabled(Kernel k) => k.HugepagePmdEnabled();

    public ulong KhugepagedOrders(Kernel k, Vma.Vma vma) =>
        k.ThpVmaAllowableOrders(vma, TvaType.Khugepaged, 1UL << k.Geo.PmdOrder) == 0 ? 0
        : k.ThpVmaAllowableOrders(vma, TvaType.Khugepaged, k.Geo.AnonOrders);

    /// <summary>MADV_COLLAPSE: every anonymous order from MIN_MTHP_ORDER up that the VMA can hold, sysfs aside.</summary>
    public ulong MadviseCollapseOrders(Kernel k, Vma.Vma vma) =>
        k.ThpVmaAllowableOrders(vma, TvaType.ForcedCollapse, k.Geo.AnonOrders & ~((1UL << MinMthpOrder) - 1));

    /// <summary>The RFC's threshold: max_ptes_none as a percentage of the chunks, truncating as C does.</summary>
    static int ThresholdBits(PmdWindow w, int order)
    {
        int nr = w.Ptes;
        int maxPercent = (nr - (int)w.Settings.MaxPtesNone - 1) * 100 / (nr - 1);
        int chunks = 1 << (order - MinMthpOrder);
        return maxPercent * chunks / 100;
    }

    public ScanResult CollapseWindow(PmdWindow w)
    {
        // The scan has no max_ptes_none limit any more; the PMD-wide shared and swap limits stay.
        var s = w.Scan(0, w.Ptes, w.SysfsLimits() with { MaxPtesNone = w.Ptes }, countVmEvents: true);
        if (s.Result != ScanResult.Succeed) return s.Result;
        if (w.IsKhugepaged && (s.Referenced == 0 || (s.Unmapped > 0 && s.Referenced < w.Ptes / 2))) return ScanResult.LackReferencedPage;
        int chunkCount = w.Ptes >> MinMthpOrder;
        var chunk = new bool[chunkCount];
        for (int c = 0; c < chunkCount; c++) chunk[c] = w.PresentIn(c << MinMthpOrder, 1 << MinMthpOrder) == 1 << MinMthpOrder;

        // Collapse isolate limits are the sysfs ones, unscaled; only sub-PMD targets skip larger folios.
        bool any = false;
        var stack = new Stack<(int ChunkOrder, int ChunkOffset)>();
        stack.Push((w.PmdOrder - MinMthpOrder, 0));
        while (stack.Count > 0)
        {
            var (co, cofs) = stack.Pop();
            int order = co + MinMthpOrder, n = 1 << co;
            if (asPosted || (w.Orders & (1UL << order)) != 0)
            {
                w.ConsiderRange();
                int bits = 0;
                for (int c = cofs; c < cofs + n; c++) if (chunk[c]) bits++;
                if (bits >= ThresholdBits(w, order))
                {
                    var r = w.Collapse(cofs << MinMthpOrder, order, w.SysfsLimits(skipIfLargerFolio: order != w.PmdOrder));
                    if (r == ScanResult.Succeed) { any = true; continue; }
                    if (asPosted) continue;   // as posted, a failure drops the subtree
                }
            }
            if (co > 0)
            {
                stack.Push((co - 1, cofs + n / 2));   // right half first, so the left half is tried first
                stack.Push((co - 1, cofs));
            }
        }
        return any ? ScanResult.Succeed : ScanResult.Fail;
    }
}
