using System.Globalization;
using System.Text;
using MthpSim.Core;
using MthpSim.Trace.Replay;
using MthpSim.Trace.Truth;

namespace MthpSim.Cli.Commands;

/// <summary>The table of a replay against a truth file: per process, Rss and anonymous pages per folio size, simulated and live.</summary>
static class CompareTruth
{
    /// <summary>The largest difference the issue accepts, in percent.</summary>
    public const double Tolerance = 1.0;

    public static string Table(string title, Kernel k, TraceReplay replay, TruthFile truth, out bool within)
    {
        var o = TruthComparison.Compare(replay.Snapshots, truth, (int)k.Geo.PageSize);
        var b = new StringBuilder();
        b.AppendLine(title);
        b.AppendLine($"  {"process",-20} {"what",-18} {"simulated",12} {"live",12} {"diff",8}");
        foreach (var r in o.Rows)
            b.AppendLine($"  {r.Process,-20} {r.What,-18} {r.Simulated.ToString("N0", CultureInfo.InvariantCulture),12} {r.Live.ToString("N0", CultureInfo.InvariantCulture),12} {r.DiffPercent.ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + "%",8}{(r.Within(Tolerance) ? "" : "  > 1%")}");
        foreach (var u in o.Unmatched) b.AppendLine($"  {u}");
        within = o.Unmatched.Count == 0 && o.Rows.All(r => r.Within(Tolerance));
        b.AppendLine(within ? $"  every figure within {Tolerance}%" : $"  NOT within {Tolerance}%");
        return b.ToString();
    }
}
