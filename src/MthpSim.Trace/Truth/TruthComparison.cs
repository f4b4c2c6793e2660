using MthpSim.Trace.Replay;

namespace MthpSim.Trace.Truth;

/// <summary>
/// A replay's processes against the live kernel's: paired by program name and order of exit (pids
/// differ between runs), then Rss and the anonymous pages of each folio size side by side.
/// </summary>
public static class TruthComparison
{
    /// <summary>One compared quantity of one process; <see cref="Within"/> is the 1 % the issue asks for.</summary>
    public sealed record Row(string Process, string What, long Simulated, long Live)
    {
        public double DiffPercent => Live == 0 ? (Simulated == 0 ? 0 : 100) : 100.0 * (Simulated - Live) / Live;
        public bool Within(double percent) => Math.Abs(DiffPercent) <= percent;
    }

    public sealed record Outcome(List<Row> Rows, List<string> Unmatched);

    /// <summary>/proc/PID/comm keeps 15 bytes of the name.</summary>
    static string Comm(string name) => name.Length > 15 ? name[..15] : name;

    public static Outcome Compare(IReadOnlyList<ProcessSnapshot> sim, TruthFile truth, int pageSize)
    {
        var rows = new List<Row>();
        var unmatched = new List<string>();
        var live = truth.Processes.GroupBy(p => p.Comm).ToDictionary(g => g.Key, g => new Queue<TruthProcess>(g));
        var seen = new Dictionary<string, int>();
        foreach (var s in sim)
        {
            string comm = Comm(s.Comm);
            int n = seen[comm] = seen.GetValueOrDefault(comm) + 1;
            string name = $"{comm}#{n}";
            if (!live.TryGetValue(comm, out var q) || q.Count == 0) { unmatched.Add($"{name} (pid {s.Pid}) has no live process"); continue; }
            var t = q.Dequeue();
            rows.Add(new Row(name, "Rss kB", s.RssKb, t.RssKb));
            rows.Add(new Row(name, "RssAnon kB", s.RssAnonKb, t.RssAnonKb));
            var orders = t.AnonPagesByOrder.Keys.Union(s.Census.AnonPagesByOrder.Select((v, o) => (v, o)).Where(x => x.v > 0).Select(x => x.o)).Order();
            foreach (int o in orders)
                rows.Add(new Row(name, $"anon {SizeName(pageSize, o)} pages", s.Census.AnonPagesByOrder[o], t.AnonPagesByOrder.GetValueOrDefault(o)));
        }
        foreach (var (comm, q) in live)
            foreach (var t in q) unmatched.Add($"live {comm} (pid {t.Pid}) has no process in the replay");
        return new Outcome(rows, unmatched);
    }

    public static string SizeName(int pageSize, int order)
    {
        long kb = ((long)pageSize << order) / 1024;
        return kb >= 1024 && kb % 1024 == 0 ? $"{kb / 1024}M" : $"{kb}K";
    }
}
