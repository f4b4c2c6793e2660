using System.Numerics;

namespace MthpSim.Core.Khugepaged.Policies;

/// <summary>
/// The upstream mTHP collapse design, v19 (June 2026, "khugepaged: add mTHP collapse support"):
/// khugepaged runs when any anonymous size is enabled (hugepage_enabled()); one scan of the whole
/// PMD window records which pages are occupied (a bitmap, one bit per page: present, not none, not
/// the zero page; swap entries get no bit); then a forward walk over offsets and orders, highest
/// enabled order first (mthp_collapse()): a range collapses when enough of its pages are occupied;
/// after a recoverable failure the next lower order is tried at the same offset; a range holding a
/// folio of the target order or larger is skipped. Below the PMD size max_ptes_none is honoured only
/// as 0 or HPAGE_PMD_NR-1 (other values act as 0), and any swapped or shared PTE fails the range.
/// </summary>
public sealed class MthpPolicy : ICollapsePolicy
{
    /// <summary>KHUGEPAGED_MIN_MTHP_ORDER: anonymous mTHP starts at order 2.</summary>
    const int MinOrder = 2;

    public string Name => "mthp";
    public bool VmEventsAtEveryOrder => false;
    public bool HasCollapseStats => true;
    public bool TracesOrder => true;

    /// <summary>models hugepage_enabled(): any anonymous size enabled, not just the PMD size.</summary>
    public bool KhugepagedEnabled(Kernel k) => k.AnyAnonOrderEnabled(k.Geo.AnonOrders) || k.ShmemHpagePmdEnabled();

    /// <summary>models collapse_possible_orders(): every anonymous order allowed for khugepaged.</summary>
    public ulong KhugepagedOrders(Kernel k, Vma.Vma vma) => k.ThpVmaAllowableOrders(vma, TvaType.Khugepaged, k.Geo.AnonOrders);

    /// <summary>models collapse_max_ptes_none(): the sysfs value at PMD size; below it only 0 or "a single page is enough".</summary>
    static int MaxPtesNone(PmdWindow w, int order)
    {
        int sysfs = (int)w.Settings.MaxPtesNone;
        if (order == w.PmdOrder) return sysfs;
        if (sysfs == w.Ptes - 1) return (1 << order) - 1;
        if (sysfs != 0)
            w.WarnOnce($"khugepaged: mTHP collapse does not support max_ptes_none values other than 0 or {w.Ptes - 1}, defaulting to 0.");
        return 0;
    }

    CollapseLimits Limits(PmdWindow w, int order) => order == w.PmdOrder
        ? w.SysfsLimits(skipIfLargerFolio: false)
        : new CollapseLimits(MaxPtesNone(w, order), MaxPtesShared: 0, MaxPtesSwap: 0, SkipIfLargerFolio: true);

    /// <summary>Failures after which a lower order is tried at the same offset (patch 12's set).</summary>
    static bool Recoverable(ScanResult r) => r is ScanResult.AllocHugePageFail or ScanResult.LackReferencedPage
        or ScanResult.ExceedNonePte or ScanResult.ExceedSwapPte or ScanResult.ExceedSharedPte or ScanResult.PageLock
        or ScanResult.PageCount or ScanResult.PageNull or ScanResult.DelPageLru or ScanResult.PteNonPresent or ScanResult.PteUffdWp;

    public ScanResult CollapseWindow(PmdWindow w)
    {
        ulong orders = w.Orders;
        int pmdOrder = w.PmdOrder;
        // The scan records the whole window; the PMD none limit is relaxed to HPAGE_PMD_NR-1 when a
        // smaller order is possible, so a sparse window is still recorded instead of aborting.
        bool onlyPmd = orders == 1UL << pmdOrder;
        var scanLimits = w.SysfsLimits() with { MaxPtesNone = onlyPmd ? (int)w.Settings.MaxPtesNone : w.Ptes - 1 };
        var s = w.Scan(0, w.Ptes, scanLimits, countVmEvents: true);
        if (s.Result != ScanResult.Succeed) return s.Result;
        if (s.Referenced == 0) return ScanResult.LackReferencedPage;

        // models mthp_collapse(): the forward walk over (offset, order)
        bool any = false, allocFailed = false;
        var last = ScanResult.Fail;
        int offset = 0, order = pmdOrder;
        while (offset < w.Ptes)
        {
            bool next = false;
            if ((orders & (1UL << order)) != 0)
            {
                w.ConsiderRange();
                int nr = 1 << order;
                // A range below the occupancy threshold is passed over: no counter, no trace.
                if (w.PresentIn(offset, nr) >= nr - MaxPtesNone(w, order))
                {
                    var r = w.Collapse(offset, order, Limits(w, order));
                    // last_result keeps the last failure: neither a success nor a skipped range sets it
                    if (r is not (ScanResult.Succeed or ScanResult.PteMappedHugepage)) last = r;
                    if (r == ScanResult.Succeed) { any = true; next = true; }
                    else if (r == ScanResult.PteMappedHugepage) next = true;
                    else if (Recoverable(r)) allocFailed |= r == ScanResult.AllocHugePageFail;
                    else return any ? ScanResult.Succeed : r;
                }

            }
            ulong lower = orders & ((1UL << order) - 1) & ~((1UL << MinOrder) - 1);
            if (!next && order > MinOrder && lower != 0)
            {
                order--;
                continue;
            }
            offset += 1 << order;
            order = offset >= w.Ptes ? pmdOrder : Math.Min(BitOperations.TrailingZeroCount(offset), pmdOrder);
        }
        return any ? ScanResult.Succeed : allocFailed ? ScanResult.AllocHugePageFail : last;
    }
}
