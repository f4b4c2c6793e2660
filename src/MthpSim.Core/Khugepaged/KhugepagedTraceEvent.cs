namespace MthpSim.Core.Khugepaged;

/// <summary>
/// One PMD range looked at by a collapse scan, as the mm_khugepaged_scan_pmd tracepoint reports it:
/// where, the result, and the counts that led to it. <see cref="ByKhugepaged"/> is false for MADV_COLLAPSE.
/// </summary>
public readonly record struct KhugepagedTraceEvent(
    long TimeMs, string Process, ulong Address, ScanResult Result,
    int Referenced, int NoneOrZero, int Unmapped, int Shared, bool ByKhugepaged, int Order = -1)
{
    /// <summary>A collapse attempt at one order inside a window (mm_collapse_huge_page with its order), rather than a window scan.</summary>
    public bool IsCollapse => Order >= 0;

    public override string ToString() => IsCollapse
        ? $"{TimeMs,10} ms  {Process,-8} 0x{Address:x12}    collapse order={Order,-2}  {Result.KernelName(),-28}"
        : $"{TimeMs,10} ms  {Process,-8} 0x{Address:x12}  {(ByKhugepaged ? "khugepaged" : "madvise   ")}  {Result.KernelName(),-28} " +
          $"referenced={Referenced} none_or_zero={NoneOrZero} unmapped={Unmapped} shared={Shared}";
}
