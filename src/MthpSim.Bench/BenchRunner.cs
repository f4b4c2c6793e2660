using MthpSim.Bench.Live;

namespace MthpSim.Bench;

/// <summary>
/// Runs the suite pattern by pattern: a warm-up run, then <c>runs</c> measured runs, each in the
/// simulator and then (with a live side) on the live kernel, so that both sides see the same machine
/// conditions; each figure is the median of its runs. A pattern's runs follow one another because
/// what ran just before in the process moves a figure (a pattern that left the garbage collector's
/// heap smaller has the next one fault fresh host memory in, and so does a live run): each pattern
/// is measured after itself, as when it runs alone. Cancelled (a signal), it stops after the run it
/// is in and reports the patterns with at least one measured run.
/// </summary>
public static class BenchRunner
{
    /// <param name="log">A line at the start of each pattern.</param>
    /// <param name="measured">After each run of each pattern: how many of the
    /// <see cref="Steps"/> are done, and the pattern's name.</param>
    public static BenchReport Run(IReadOnlyList<BenchPattern> patterns, BenchScale scale, int runs, LiveBench? live,
        Action<string>? log = null, Action<int, string>? measured = null, CancellationToken cancel = default)
    {
        var sim = patterns.ToDictionary(p => p.Name, _ => new List<SimSample>());
        var kernel = patterns.ToDictionary(p => p.Name, _ => new List<(long Units, double Ns)>());
        int done = 0;
        bool interrupted = false;
        for (int i = 0; i < patterns.Count && !interrupted; i++)
        {
            var p = patterns[i];
            log?.Invoke($"pattern {i + 1} of {patterns.Count}: {p.Name}");
            for (int run = 0; run <= runs; run++)
            {
                if (cancel.IsCancellationRequested) { interrupted = true; break; }
                // After a live run the simulator runs once unmeasured: what ran just before is then
                // the pattern itself again, not the live program (which moves the figure as much).
                if (run > 0 && live != null && p.Live != null) SimSample.Measure(p);
                var s = SimSample.Measure(p);
                LiveMeasurement? k;
                try { k = live != null && p.Live != null ? live.Measure(p.Live) : null; }
                catch (OperationCanceledException) when (live?.Interrupted != null) { interrupted = true; break; }
                measured?.Invoke(++done, p.Name);
                if (run == 0) continue;   // the warm-up
                sim[p.Name].Add(s);
                if (k is { } kv) kernel[p.Name].Add((kv.Units, kv.NsPerUnit));
            }
        }
        var results = patterns.Where(p => sim[p.Name].Count > 0).Select(p => Summarise(p, sim[p.Name], kernel[p.Name])).ToList();
        return new BenchReport(scale.Name, runs, live != null, live?.KernelRelease, results) { Interrupted = interrupted };
    }

    /// <summary>Pattern measurements in a whole suite: every pattern's warm-up and measured runs.</summary>
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
