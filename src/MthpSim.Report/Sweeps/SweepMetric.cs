using MthpSim.Sweep.Run;

namespace MthpSim.Report.Sweeps;

/// <summary>A figure of a cell's result that a sweep report charts; null where the cell has none (an error, another kind of input).</summary>
public sealed record SweepMetric(string Name, Func<CellResult, double?> Of)
{
    /// <summary>What a sweep report charts unless told otherwise: the collapse designs' outcome and cost, and replays' memory.</summary>
    public static readonly IReadOnlyList<SweepMetric> Defaults =
    [
        new("collapses", r => r.Collapse?.CollapsesBySize.Values.Sum()),
        new("kB in large folios", r => r.Collapse is { } c ? AboveBase(c.MappedKbBySize) : null),
        new("bloat kB", r => r.Collapse?.BloatKb),
        new("creep events", r => r.Collapse?.CreepEvents),
        new("PTEs examined", r => r.Collapse?.PtesExamined),
        new("wasted attempts", r => r.Collapse?.WastedAttempts),
        new("collapse CPU ms", r => r.Collapse?.CpuMs),
        new("Rss kB", r => r.Processes?.Sum(p => p.RssKb)),
        new("anon kB in large folios", r => r.Processes?.Sum(p => AboveBase(p.AnonPagesBySize, pages: true))),
    ];

    /// <summary>A counter of the results (<c>vmstat/NAME</c>, <c>sysfs/PATH</c>), named as there.</summary>
    public static SweepMetric Counter(string name) => new(name, r => r.Outcome != "error" && r.Counters.TryGetValue(name, out long v) ? v : null);

    /// <summary>kB in every size but the smallest present (the base page); with <paramref name="pages"/>, the values count pages of that size.</summary>
    static double AboveBase(SortedDictionary<string, long> bySize, bool pages = false)
    {
        var sizes = bySize.Select(kv => (Kb: long.Parse(kv.Key[..^2], System.Globalization.CultureInfo.InvariantCulture), N: kv.Value)).ToList();
        if (sizes.Count == 0) return 0;
        long baseKb = sizes.Min(s => s.Kb);
        return sizes.Where(s => s.Kb > baseKb).Sum(s => pages ? s.N * s.Kb : s.N);
    }
}
