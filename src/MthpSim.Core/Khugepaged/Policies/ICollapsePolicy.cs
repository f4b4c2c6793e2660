namespace MthpSim.Core.Khugepaged.Policies;

/// <summary>
/// A khugepaged collapse design: which VMAs khugepaged scans, and what it does with one PMD window.
/// Contract: a policy decides and counts nothing by itself; it inspects the window only through
/// <see cref="PmdWindow.Scan"/> (which counts the PTEs examined) and changes memory only through
/// <see cref="PmdWindow.Collapse"/> (the kernel's collapse_huge_page() for an order). It must be
/// deterministic. MADV_COLLAPSE is Linux 6.18's PMD collapse unless the design says otherwise
/// (<see cref="MadviseCollapseOrders"/>).
/// </summary>
public interface ICollapsePolicy
{
    /// <summary>The name used by <c>policy collapse = NAME</c>.</summary>
    string Name { get; }

    /// <summary>Whether khugepaged runs with these settings (6.18: hugepage_pmd_enabled()).</summary>
    bool KhugepagedEnabled(Kernel k);

    /// <summary>The orders khugepaged may collapse this VMA's windows to; 0 when it skips the VMA.</summary>
    ulong KhugepagedOrders(Kernel k, Vma.Vma vma);

    /// <summary>Whether the design adds the per-order collapse_* files under hugepages-*/stats/.</summary>
    bool HasCollapseStats { get; }

    /// <summary>
    /// Whether the design adds anon_collapse_alloc and anon_collapse_alloc_failed to every anonymous
    /// size's stats/, counting collapse allocations below the PMD size (Dev Jain's RFC, patch 02).
    /// </summary>
    bool HasAnonCollapseAllocStats => false;

    /// <summary>Whether thp_collapse_alloc[_failed] count collapses of every order (the RFCs) or only PMD ones.</summary>
    bool VmEventsAtEveryOrder { get; }

    /// <summary>Scans one PMD-aligned window for khugepaged (or MADV_COLLAPSE) and collapses what the design decides; SCAN_SUCCEED if anything collapsed.</summary>
    ScanResult CollapseWindow(PmdWindow w);

    /// <summary>
    /// The orders MADV_COLLAPSE hands this design's <see cref="CollapseWindow"/>; 0 (the default) keeps
    /// MADV_COLLAPSE Linux 6.18's PMD-only collapse.
    /// </summary>
    ulong MadviseCollapseOrders(Kernel k, Vma.Vma vma) => 0;

    /// <summary>
    /// Whether a collapse below the PMD size swaps in the swap entries of its range, as the PMD
    /// collapse does (the January 2025 RFCs); false (the default, the upstream series) fails the
    /// range at its first swap entry with SCAN_EXCEED_SWAP_PTE, since swapping in would feed creep.
    /// </summary>
    bool SwapInBelowPmdSize => false;

    /// <summary>
    /// Whether a folio collapsed below the PMD size goes on the deferred split queue as a PMD one does
    /// (deferred_split_folio(), so the underused-THP shrinker may split it again: the January 2025
    /// RFCs); false (the default, the upstream series) leaves it off the queue.
    /// </summary>
    bool QueuesCollapsedBelowPmdSize => false;

    /// <summary>Whether the collapse tracepoints (mm_collapse_huge_page, _isolate, _swapin) print the order (the upstream series); false: 6.18's formats.</summary>
    bool TracesOrder => false;
}
