namespace MthpSim.Core.Khugepaged;

/// <summary>
/// One PMD range looked at by a collapse scan, as the mm_khugepaged_scan_pmd tracepoint reports it:
/// where, the result, and the counts that led to it. <see cref="ByKhugepaged"/> is false for MADV_COLLAPSE.
/// </summary>
public readonly record struct KhugepagedTraceEvent(
    long TimeMs, string Process, ulong Address, ScanResult Result,
    int Referenced, int NoneOrZero, int Unmapped, int Shared, bool ByKhugepaged)
{
    public override string ToString() =>
        $"{TimeMs,10} ms  {Process,-8} 0x{Address:x12}  {(ByKhugepaged ? "khugepaged" : "madvise   ")}  {Result.KernelName(),-28} " +
        $"referenced={Referenced} none_or_zero={NoneOrZero} unmapped={Unmapped} shared={Shared}";
}
