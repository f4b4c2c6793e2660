using MthpSim.Core.PageTable;

namespace MthpSim.Core.Khugepaged;

/// <summary>What a scan of PTEs found (the counts of hpage_collapse_scan_pmd()); which pages are occupied is kept by the window.</summary>
public struct WindowScan
{
    public ScanResult Result;
    public int NoneOrZero, Shared, Unmapped, Referenced;
    /// <summary>The largest folio order met in the scanned PTEs.</summary>
    public int LargestFolioOrder;
    /// <summary>The head PFN of the last folio looked at (the tracepoint's scan_pfn), null for none.</summary>
    public int? LastFolio;
}

/// <summary>The limits a scan or a collapse of one order applies (max_ptes_* for that order).</summary>
public readonly record struct CollapseLimits(int MaxPtesNone, int MaxPtesShared, int MaxPtesSwap, bool SkipIfLargerFolio);

/// <summary>
/// One PMD-aligned window handed to a collapse policy: the window's PTEs (only through
/// <see cref="Scan"/>, which counts what it examines) and collapse of any naturally aligned range
/// inside it (<see cref="Collapse"/>).
/// </summary>
public sealed class PmdWindow
{
    readonly Kernel _k;
    internal PmdSlot? Slot;
    public Vma.Vma Vma { get; }
    public ulong Address { get; }
    public bool IsKhugepaged { get; }
    /// <summary>The orders the policy may collapse this window to.</summary>
    public ulong Orders { get; }
    public int PmdOrder => _k.Geo.PmdOrder;
    public int Ptes => 1 << PmdOrder;
    public Thp.ThpSettings Settings => _k.Thp;
    public CollapseMetrics Metrics => _k.CollapseMetrics;
    /// <summary>The result of locating the window's page table (SCAN_SUCCEED when a PTE table is there).</summary>
    public ScanResult PmdState { get; }
    /// <summary>Trace details the policy reports back (the last scan's counts).</summary>
    public WindowScan? LastScan;
    /// <summary>
    /// Per PTE of the window, from the latest scan covering it: a present, mapped anonymous page (not
    /// none, not the zero page). The kernel's buffer, reused window after window (one scan at a time).
    /// </summary>
    internal readonly bool[] Present;

    internal PmdWindow(Kernel k, Vma.Vma vma, ulong address, bool isKhugepaged, ulong orders)
    {
        _k = k;
        Vma = vma;
        Address = address;
        IsKhugepaged = isKhugepaged;
        Orders = orders;
        PmdState = k.FindPmdOrThpOrNone(vma.Mm, address, out Slot);
        Present = k.ScanPresent;
    }

    /// <summary>How many of PTEs [from, from + count) the latest scan found present (see <see cref="Present"/>).</summary>
    public int PresentIn(int from, int count) => count - Present.AsSpan(from, count).Count(false);

    /// <summary>The limits of the 6.18 sysfs knobs (PMD size), for khugepaged; no limits for MADV_COLLAPSE.</summary>
    public CollapseLimits SysfsLimits(bool skipIfLargerFolio = false) => IsKhugepaged
        ? new((int)Settings.MaxPtesNone, (int)Settings.MaxPtesShared, (int)Settings.MaxPtesSwap, skipIfLargerFolio)
        : new(Ptes, Ptes, Ptes, skipIfLargerFolio);

    /// <summary>
    /// Examines PTEs [from, from + count) as hpage_collapse_scan_pmd() does, stopping at the first
    /// limit exceeded; counts every PTE looked at into the metrics. <paramref name="countVmEvents"/>
    /// makes an exceeded PMD-size limit count thp_scan_exceed_*.
    /// </summary>
    /// <remarks><paramref name="stopAtFolioOrder"/>: stop with SCAN_PTE_MAPPED_HUGEPAGE at the first page whose folio is at least this order (-1: never).</remarks>
    public WindowScan Scan(int from, int count, CollapseLimits limits, bool countVmEvents, int stopAtFolioOrder = -1)
    {
        var s = _k.ScanPteRange(this, from, count, limits, countVmEvents, stopAtFolioOrder);
        LastScan = s;
        return s;
    }

    /// <summary>Logs a kernel warning once per machine (pr_warn_once()).</summary>
    public void WarnOnce(string message) => _k.PrWarnOnce(message);

    /// <summary>Counts one (offset, order) range the design considered (a bitmap check or a range scan).</summary>
    public void ConsiderRange() => Metrics.RangesTried++;

    /// <summary>collapse_huge_page() at this order for [offset, offset + 2^order), with the isolate checks under these limits.</summary>
    public ScanResult Collapse(int offset, int order, CollapseLimits limits) => _k.CollapseRange(this, offset, order, limits);
}
