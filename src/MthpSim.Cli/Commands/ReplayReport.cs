using System.Globalization;
using System.Text;
using System.Text.Json;
using MthpSim.Core;
using MthpSim.Trace.Replay;
using MthpSim.Trace.Truth;

namespace MthpSim.Cli.Commands;

/// <summary>What <c>mthpsim replay</c> prints: per process its end state, what could not be replayed, and the THP counters.</summary>
static class ReplayReport
{
    static string Num(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Pages by folio size, smallest first: "4K:404 64K:51616".</summary>
    public static string Histogram(Kernel k, long[] pagesByOrder) => string.Join(' ',
        pagesByOrder.Select((n, o) => (n, o)).Where(x => x.n > 0).Select(x => $"{SizeName(k, x.o)}:{x.n.ToString(CultureInfo.InvariantCulture)}"));

    static string SizeName(Kernel k, int order)
    {
        long kb = k.Geo.SizeOfOrderKb(order);
        return kb >= 1024 && kb % 1024 == 0 ? $"{kb / 1024}M" : $"{kb}K";
    }

    /// <summary>THP counters that are not zero: vmstat's thp_* and every per-size stat.</summary>
    public static IEnumerable<(string Name, long Value)> Counters(Kernel k)
    {
        foreach (var n in k.VmstatNames().Where(n => n.StartsWith("thp_", StringComparison.Ordinal) || n.StartsWith("mthp", StringComparison.Ordinal)))
            if (k.Vmstat(n) is long v && v != 0) yield return (n, v);
        foreach (var f in k.SysfsFiles(includeStats: true).Where(f => f.Contains("/stats/", StringComparison.Ordinal)))
            if (long.TryParse(k.SysfsRead(f), CultureInfo.InvariantCulture, out long v) && v != 0) yield return (f, v);
    }

    public static string Text(string path, Kernel k, TraceReplay r, bool vmas = false)
    {
        var b = new StringBuilder();
        b.AppendLine($"replay {path}: {Num(r.Events)} records, {Num(r.Faults)} faults, {r.Snapshots.Count} process(es), {Num(r.PrepopulatedPages)} file pages read into the page cache first");
        b.AppendLine($"settings: enabled={Selected(k, "enabled")} " + string.Join(' ',
            k.SysfsFiles(includeStats: false).Where(f => f.EndsWith("/enabled", StringComparison.Ordinal)).Select(f => $"{f.Split('/')[0]}={Selected(k, f)}")));
        b.AppendLine();
        b.AppendLine($"{"pid",-7} {"comm",-16} {"at",-5} {"faults",10} {"minflt",10} {"Rss kB",10} {"anon kB",10} {"file kB",10}  anon folios (pages)  zero pages");
        foreach (var p in r.Snapshots)
            b.AppendLine($"{p.Pid,-7} {Trunc(p.Comm, 16),-16} {(p.Exited ? "exit" : "end"),-5} {Num(p.TraceFaults),10} {Num(p.MinFlt),10} {Num(p.RssKb),10} {Num(p.RssAnonKb),10} {Num(p.RssFileKb + p.RssShmemKb),10}  {Histogram(k, p.Census.AnonPagesByOrder)}  {Num(p.Census.ZeroPages)}");
        if (vmas)
            foreach (var p in r.Snapshots)
            {
                b.AppendLine();
                b.AppendLine($"{p.Pid} {p.Comm}: VMAs at its end");
                foreach (var v in p.Census.Vmas)
                {
                    b.AppendLine($"  {v.Start:x12}-{v.End:x12} anon={v.Anon} file={v.File} zero={v.Zero} anon_large={v.AnonLarge}");
                    b.AppendLine($"    present {v.Present}");
                }
            }
        b.AppendLine();
        if (r.Problems.Count == 0) b.AppendLine("every record replayed");
        else
        {
            b.AppendLine("not replayed as recorded:");
            foreach (var (what, (count, first)) in r.Problems) b.AppendLine($"  {what}: {Num(count)} (first: {first})");
        }
        var counters = Counters(k).ToList();
        if (counters.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("THP counters:");
            foreach (var (n, v) in counters) b.AppendLine($"  {n} {Num(v)}");
        }
        return b.ToString();
    }

    /// <summary>The bracketed word of a choice file ("always [madvise] never" → madvise), or the value.</summary>
    public static string Selected(Kernel k, string file)
    {
        string v = k.SysfsRead(file) ?? "";
        int a = v.IndexOf('['), z = v.IndexOf(']');
        return a >= 0 && z > a ? v[(a + 1)..z] : v;
    }

    static string Trunc(string s, int n) => s.Length <= n ? s : s[..n];

    public static string Json(string path, Kernel k, TraceReplay r, string? truthPath = null, TruthComparison.Outcome? truth = null)
    {
        var doc = new
        {
            trace = path,
            records = r.Events,
            faults = r.Faults,
            prepopulatedFilePages = r.PrepopulatedPages,
            settings = k.SysfsFiles(includeStats: false).Where(f => !f.StartsWith("khugepaged/pages_collapsed") && !f.StartsWith("khugepaged/full_scans"))
                .ToDictionary(f => f, f => Selected(k, f)),
            processes = r.Snapshots.Select(p => new
            {
                pid = p.Pid, comm = p.Comm, exe = p.Exe, timeNs = p.TimeNs, exited = p.Exited, traceFaults = p.TraceFaults,
                minflt = p.MinFlt, majflt = p.MajFlt, rssKb = p.RssKb, rssAnonKb = p.RssAnonKb, rssFileKb = p.RssFileKb + p.RssShmemKb,
                anonPagesBySize = Sizes(k, p.Census.AnonPagesByOrder), filePagesBySize = Sizes(k, p.Census.FilePagesByOrder), zeroPages = p.Census.ZeroPages,
            }),
            problems = r.Problems.Select(p => new { what = p.Key, count = p.Value.Count, first = p.Value.First }),
            counters = Counters(k).ToDictionary(c => c.Name, c => c.Value),
            truth = truth == null ? null : new
            {
                file = truthPath,
                tolerancePercent = CompareTruth.Tolerance,
                within = truth.Unmatched.Count == 0 && truth.Rows.All(x => x.Within(CompareTruth.Tolerance)),
                rows = truth.Rows.Select(x => new { process = x.Process, what = x.What, simulated = x.Simulated, live = x.Live, diffPercent = Math.Round(x.DiffPercent, 3) }),
                unmatched = truth.Unmatched,
            },
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }) + "\n";
    }

    static Dictionary<string, long> Sizes(Kernel k, long[] pagesByOrder) =>
        pagesByOrder.Select((n, o) => (n, o)).Where(x => x.n > 0).ToDictionary(x => SizeName(k, x.o), x => x.n);
}
