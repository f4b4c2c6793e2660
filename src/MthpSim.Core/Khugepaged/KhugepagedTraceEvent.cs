using System.Globalization;
using System.Text;

namespace MthpSim.Core.Khugepaged;

/// <summary>The huge_memory tracepoints the model emits.</summary>
public enum KhugepagedTraceKind { ScanPmd, ScanFile, Collapse, Isolate, Swapin }

/// <summary>
/// One event of the huge_memory trace system as the model records it: a PMD range scanned
/// (mm_khugepaged_scan_pmd, or mm_khugepaged_scan_file when <see cref="FileName"/> is set), or for
/// a collapse attempted at one order inside a window (<see cref="Order"/> ≥ 0) its isolation
/// (mm_collapse_huge_page_isolate), its swap-in (mm_collapse_huge_page_swapin: <see cref="Unmapped"/>
/// holds the pages swapped in) and its end (mm_collapse_huge_page).
/// <see cref="ByKhugepaged"/> is false for MADV_COLLAPSE. <see cref="ScanPfn"/> is the last folio the
/// scan or the isolation looked at, -1 for none; <see cref="NoneOrZero"/> of a file scan is the range's pages not cached.
/// <see cref="PrintsOrder"/>: the design's tracepoints print the order (the upstream mTHP series).
/// </summary>
public readonly record struct KhugepagedTraceEvent(
    long TimeMs, string Process, int Pid, ulong Address, ScanResult Result,
    int Referenced, int NoneOrZero, int Unmapped, int Shared, bool ByKhugepaged, int Order = -1, long ScanPfn = -1, string? FileName = null,
    KhugepagedTraceKind Kind = KhugepagedTraceKind.ScanPmd, bool PrintsOrder = false)
{
    /// <summary>The end of a collapse attempt at one order inside a window (mm_collapse_huge_page).</summary>
    public bool IsCollapse => Kind == KhugepagedTraceKind.Collapse;

    /// <summary>The pid the model gives khugepaged: a kernel thread started before any process (processes count up from 1001).</summary>
    public const int KhugepagedPid = 50;

    /// <summary>
    /// The event as ftrace prints it in the trace file (task-pid, CPU, flags, timestamp, event, and
    /// the tracepoint's TP_printk text). The mm pointer is hashed, as %p prints it, from the pid.
    /// <paramref name="extended"/> appends the model's own fields in brackets.
    /// </summary>
    public string Format(int pmdPages, bool extended)
    {
        var sb = new StringBuilder();
        string comm = ByKhugepaged ? "khugepaged" : Process.Length > 15 ? Process[..15] : Process;
        sb.Append(comm.PadLeft(16)).Append('-').Append((ByKhugepaged ? KhugepagedPid : Pid).ToString(CultureInfo.InvariantCulture).PadRight(7))
          .Append(" [000] ..... ").Append((TimeMs / 1000).ToString(CultureInfo.InvariantCulture).PadLeft(5)).Append('.')
          .Append((TimeMs % 1000 * 1000).ToString("D6", CultureInfo.InvariantCulture)).Append(": ");
        string mm = $"mm={(uint)(Pid * 0x9E3779B1u):x16}";
        string pfn = $"0x{(ScanPfn < 0 ? ulong.MaxValue : (ulong)ScanPfn):x}";
        string order = PrintsOrder ? $", order={Order}" : "";
        if (IsCollapse)
            sb.Append($"mm_collapse_huge_page: {mm}, isolated={(Result == ScanResult.Succeed ? 1 : 0)}, status={Result.TraceName()}{order}");
        else if (Kind == KhugepagedTraceKind.Isolate)
            sb.Append($"mm_collapse_huge_page_isolate: scan_pfn={pfn}, none_or_zero={NoneOrZero}, referenced={Referenced}, status={Result.TraceName()}{order}");
        else if (Kind == KhugepagedTraceKind.Swapin)
            sb.Append($"mm_collapse_huge_page_swapin: {mm}, swapped_in={Unmapped}, referenced={Referenced}, ret={(int)Result}{order}");
        else if (FileName != null)
            sb.Append($"mm_khugepaged_scan_file: {mm}, scan_pfn={pfn}, filename={FileName}, present={pmdPages - NoneOrZero}, swap={Unmapped}, result={Result.TraceName()}");
        else
            sb.Append($"mm_khugepaged_scan_pmd: {mm}, scan_pfn={pfn}, referenced={Referenced}, none_or_zero={NoneOrZero}, status={Result.TraceName()}, unmapped={Unmapped}");
        if (extended)
            sb.Append($"  [{Process} addr=0x{Address:x}{(Order >= 0 ? $" order={Order}" : $" shared={Shared}")} by={(ByKhugepaged ? "khugepaged" : "madvise")} {Result.KernelName()}]");
        return sb.ToString();
    }
}
