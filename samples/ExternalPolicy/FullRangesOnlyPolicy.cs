using MthpSim.Core;
using MthpSim.Core.Khugepaged;
using MthpSim.Core.Khugepaged.Policies;

namespace MthpSim.Samples.ExternalPolicy;

/// <summary>
/// A design that cannot bloat and so cannot creep: khugepaged collapses an aligned range only when
/// every one of its pages is already there, to the largest allowed order whose range starting at
/// that offset is full; max_ptes_none plays no part. Ranges are taken left to right; a range that
/// fails to collapse is left for the next scan. MADV_COLLAPSE stays Linux 6.18's.
/// </summary>
/// <remarks>
/// Written only against the public surface of MthpSim.Core, as every design loaded with
/// <c>--policy-assembly</c> is: <see cref="ICollapsePolicy"/>, <see cref="PmdWindow"/> and the kernel's
/// THP order helpers.
/// </remarks>
public sealed class FullRangesOnlyPolicy : ICollapsePolicy
{
    public string Name => "full-ranges-only";

    /// <summary>No hugepages-*/stats/collapse_* files: those are the upstream design's.</summary>
    public bool HasCollapseStats => false;

    /// <summary>thp_collapse_alloc counts collapses of every order, as in the RFCs.</summary>
    public bool VmEventsAtEveryOrder => true;

    /// <summary>khugepaged runs when any anonymous size is enabled.</summary>
    public bool KhugepagedEnabled(Kernel k) => k.AnyAnonOrderEnabled(k.Geo.AnonOrders);

    /// <summary>Every anonymous order the VMA allows khugepaged.</summary>
    public ulong KhugepagedOrders(Kernel k, MthpSim.Core.Vma.Vma vma) =>
        k.ThpVmaAllowableOrders(vma, TvaType.Khugepaged, k.Geo.AnonOrders);

    public ScanResult CollapseWindow(PmdWindow w)
    {
        if (w.Orders == 0) return ScanResult.Fail;
        // One scan of the window records which pages are there; a missing page only rules out the
        // ranges around it, so the scan itself has no max_ptes_none limit.
        var limits = w.SysfsLimits() with { MaxPtesNone = w.Ptes };
        var scan = w.Scan(0, w.Ptes, limits, countVmEvents: false);
        if (scan.Result != ScanResult.Succeed) return scan.Result;
        if (w.IsKhugepaged && scan.Referenced == 0) return ScanResult.LackReferencedPage;

        int smallest = System.Numerics.BitOperations.TrailingZeroCount(w.Orders);
        bool any = false;
        var last = ScanResult.Fail;
        for (int offset = 0; offset < w.Ptes;)
        {
            int done = 1 << smallest;
            for (int order = w.PmdOrder; order >= smallest; order--)
            {
                int pages = 1 << order;
                if ((w.Orders & (1UL << order)) == 0 || (offset & (pages - 1)) != 0) continue;
                if (w.PresentIn(offset, pages) != pages) continue;
                w.ConsiderRange();
                // Full means nothing to fill in: no none PTE is allowed at collapse time either.
                last = w.Collapse(offset, order, w.SysfsLimits(skipIfLargerFolio: order != w.PmdOrder) with { MaxPtesNone = 0 });
                if (last == ScanResult.Succeed) { any = true; done = pages; }
                break;
            }
            offset += done;
        }
        return any ? ScanResult.Succeed : last;
    }
}
