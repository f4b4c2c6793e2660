using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MthpSim.Bench.Report;

/// <summary>The report as an aligned plain-text table (the default) or as JSON with camelCase keys (<c>--json</c>).</summary>
public static class BenchText
{
    static readonly string[] Header = ["pattern", "unit", "sim ns/unit", "host B/page", "alloc B/unit", "kernel ns/unit", "ratio", "targets"];

    public static string Table(BenchReport report)
    {
        var rows = new List<string[]> { Header };
        foreach (var p in report.Patterns)
        {
            rows.Add([
                p.Name, p.Unit, Ns(p.SimNsPerUnit), p.HostBytesPerPage is double b ? F(b, 1) : "-", F(p.AllocBytesPerUnit, 1),
                p.KernelNsPerUnit is double k ? Ns(k) : "-", p.Ratio is double r ? F(r, 1) + "x" : "-",
                string.Join(", ", p.Targets.Select(t => $"{t.Target} {(t.Pass ? "ok" : "FAIL")}")),
            ]);
        }
        int[] widths = Enumerable.Range(0, Header.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        if (report.Interrupted)
            sb.Append(CultureInfo.InvariantCulture, $"mthpsim bench: {report.Scale} suite, interrupted: median of the runs each pattern had (of {report.Runs})");
        else
            sb.Append(CultureInfo.InvariantCulture, $"mthpsim bench: {report.Scale} suite, median of {report.Runs} run(s)");
        sb.Append(report.VsKernel ? $", live kernel {report.KernelRelease}\n" : "\n");
        foreach (var r in rows)
        {
            var cells = r.Select((c, i) => i is 0 or 1 or 7 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]));
            sb.Append(string.Join("  ", cells).TrimEnd()).Append('\n');
        }
        int failed = report.FailedTargets.Count();
        int total = report.Patterns.Sum(p => p.Targets.Count);
        sb.Append(CultureInfo.InvariantCulture, $"targets: {total - failed} of {total} met\n");
        if (report.Interrupted)
            sb.Append(CultureInfo.InvariantCulture, $"INTERRUPTED: only the {report.Patterns.Count} pattern(s) with a measured run are listed, each with the runs it had\n");
        return sb.ToString();
    }

    /// <summary>Nanoseconds with three significant digits or more (no scientific notation).</summary>
    static string Ns(double ns) => ns >= 100 ? F(ns, 0) : ns >= 10 ? F(ns, 1) : F(ns, 2);

    static string F(double v, int decimals) => v.ToString("N" + decimals, CultureInfo.InvariantCulture);

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Json(BenchReport report) => JsonSerializer.Serialize(new
    {
        report.Scale,
        report.Runs,
        report.VsKernel,
        report.KernelRelease,
        report.Interrupted,
        Patterns = report.Patterns.Select(p => new
        {
            p.Name, p.Family, p.Unit, p.Units, p.Runs, p.SimNsPerUnit, p.HostBytesPerPage, p.AllocBytesPerUnit, p.ResidentPages,
            p.KernelUnits, p.KernelNsPerUnit, p.Ratio, p.Targets, p.Description,
        }),
    }, JsonOptions) + "\n";
}
