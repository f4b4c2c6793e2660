namespace MthpSim.Core.Khugepaged;

/// <summary>
/// What khugepaged's work costs in kernel CPU time, charged per unit of work the collapse code does:
/// a PTE read (in the scan and again in isolation), a collapse attempt (the folio's allocation and
/// freeing or mapping, the locks, the PMD clear and TLB flush: order-independent), a page copied into
/// the new folio (with its isolation and the old page's release) and a page zero-filled. The mmap
/// write lock is held from isolation through the copy: those PTE reads, copies and fills.
/// Calibrated on the live kernel by <c>mthpsim calibrate collapse</c> (docs/collapse-cost.md); only
/// PMD collapse exists there, so the order-independence of an attempt is an assumption.
/// </summary>
public sealed record CollapseCostModel(double PteReadNs, double AttemptNs, double PageCopyNs, double PageZeroNs)
{
    /// <summary>Fitted by <c>mthpsim calibrate collapse --runs 5</c> on this project's development machine (Linux 6.18.44 in a 2-CPU Firecracker VM), 2026-12-04.</summary>
    public static readonly CollapseCostModel Default = new(PteReadNs: 70.4, AttemptNs: 48_968, PageCopyNs: 970, PageZeroNs: 117);

    /// <summary>Kernel CPU time of the work <paramref name="m"/> counts, in ns.</summary>
    public double CpuNs(CollapseMetrics m) =>
        (m.PtesExamined + m.IsolatePtes) * PteReadNs + m.CollapseAttempts * AttemptNs + m.PagesCopied * PageCopyNs + m.PagesZeroed * PageZeroNs;

    /// <summary>How long the collapses held the mmap write lock, in ns.</summary>
    public double LockHoldNs(CollapseMetrics m) => m.IsolatePtes * PteReadNs + m.PagesCopied * PageCopyNs + m.PagesZeroed * PageZeroNs;
}
