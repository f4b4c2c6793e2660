namespace MthpSim.Core.Khugepaged.Policies;

/// <summary>
/// Linux 6.18: khugepaged collapses whole PMD windows only, when the PMD size is enabled, under the
/// sysfs max_ptes_none/swap/shared limits and with at least one young page (hpage_collapse_scan_pmd()).
/// </summary>
public sealed class PmdOnlyPolicy : ICollapsePolicy
{
    /// <summary>The one MADV_COLLAPSE uses under every policy.</summary>
    public static readonly PmdOnlyPolicy Instance = new();

    public string Name => "pmd-only";
    public bool VmEventsAtEveryOrder => false;
    public bool HasCollapseStats => false;

    /// <summary>models hugepage_pmd_enabled()</summary>
    public bool KhugepagedEnabled(Kernel k) => k.HugepagePmdEnabled();

    public ulong KhugepagedOrders(Kernel k, Vma.Vma vma) =>
        k.ThpVmaAllowableOrders(vma, TvaType.Khugepaged, 1UL << k.Geo.PmdOrder);

    public ScanResult CollapseWindow(PmdWindow w)
    {
        var limits = w.SysfsLimits();
        var s = w.Scan(0, w.Ptes, limits, countVmEvents: true);
        if (s.Result != ScanResult.Succeed) return s.Result;
        // With swap entries to bring in, half the window must be young.
        if (w.IsKhugepaged && (s.Referenced == 0 || (s.Unmapped > 0 && s.Referenced < w.Ptes / 2))) return ScanResult.LackReferencedPage;
        w.ConsiderRange();
        return w.Collapse(0, w.PmdOrder, limits);
    }
}
