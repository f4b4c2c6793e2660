using MthpSim.Bench.Live;

namespace MthpSim.Bench;

/// <summary>
/// Runs the suite: one warm-up round, then <c>runs</c> measured rounds. Within a round each pattern
/// runs in the simulator and then (with a live side) on the live kernel, so that both sides see the
/// same machine conditions; each figure is the median of its rounds. Cancelled (a signal), it stops
/// after the pattern it is in and reports the patterns with at least one measured round.
/// </summary>
public static class BenchRunner
{
    /// <param name="log">A line at the start of each round.</param>
    /// <param name="measured">After each pattern of each round: how many of the
    /// <see cref="Steps"/> are done, and the pattern's name.</param>
    public static BenchReport Run(IReadOnlyList<BenchPattern> patterns, BenchScale scale, int runs, LiveBench? live,
        Action<string>? log = null, Action<int, string>? measured = null, CancellationToken cancel = default)
    {
        var sim = patterns.ToDictionary(p => p.Name, _ => new List<SimSample>());
        var kernel = patterns.ToDictionary(p => p.Name, _ => new List<(long Units, double Ns)>());
        int done = 0;
        bool interrupted = false;
        for (int round = 0; round <= runs && !interrupted; round++)
        {
            log?.Invoke(round == 0 ? "warm-up round" : $"round {round} of {runs}");
            foreach (var p in patterns)
            {
                if (cancel.IsCancellationRequested) { interrupted = true; break; }
                var s = SimSample.Measure(p);
                LiveMeasurement? k;
                try { k = live != null && p.Live != null ? live.Measure(p.Live) : null; }
                catch (OperationCanceledException) when (live?.Interrupted != null) { interrupted = true; break; }
                measured?.Invoke(++done, p.Name);
                if (round == 0) continue;
                sim[p.Name].Add(s);
                if (k is { } kv) kernel[p.Name].Add((kv.Units, kv.NsPerUnit));
            }
        }
        var results = patterns.Where(p => sim[p.Name].Count > 0).Select(p => Summarise(p, sim[p.Name], kernel[p.Name])).ToList();
        return new BenchReport(scale.Name, runs, live != null, live?.KernelRelease, results) { Interrupted = interrupted };
    }

    /// <summary>Pattern measurements in a whole suite: every pattern in the warm-up and each measured round.</summary>
    public static int Steps(int patterns, int runs) => patterns * (runs + 1);

    static PatternResult Summarise(BenchPattern p, List<SimSample> sim, List<(long Units, double Ns)> kernel)
    {
        double ns = Median(sim.Select(s => s.NsPerUnit));
        long resident = sim[^1].ResidentPages;
        // Pages the pattern touched without making them resident (zero pages) would make the figure meaningless.
        bool meaningful = resident >= PatternResult.MinResidentPages && (p.Unit != "page" || resident * 4 >= sim[^1].Units);
        double? bytes = meaningful ? Median(sim.Select(s => (double)s.HostBytes / s.ResidentPages)) : null;
        double? kns = kernel.Count > 0 ? Median(kernel.Select(k => k.Ns)) : null;
        var r = new PatternResult(p.Name, p.Family, p.Unit, sim[^1].Units, sim.Count, ns, Median(sim.Select(s => s.AllocBytesPerUnit)),
            resident, bytes, kernel.Count > 0 ? kernel[^1].Units : null, kns, kns / ns) { Description = p.Description };
        foreach (var t in p.Targets)
            if (t.ValueOf(r) is double v) r.Targets.Add(new TargetResult(t.Describe(p.Unit), v, t.Passes(v)));
        return r;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        if (v.Length == 0) throw new InvalidOperationException("median of no values");
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
