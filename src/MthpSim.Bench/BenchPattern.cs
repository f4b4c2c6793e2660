namespace MthpSim.Bench;

/// <summary>
/// One benchmark of the suite: a setup that builds a fresh machine in the state the pattern needs,
/// a measured body, the unit the time is divided by, the live-kernel counterpart (if the pattern has
/// one) and the absolute targets it is judged on.
/// </summary>
public sealed class BenchPattern
{
    public required string Name { get; init; }
    /// <summary>The family (one class of <c>Patterns/</c>): write, read, sparse, retouch, fork, munmap, khugepaged, vma, scenario, fuzz.</summary>
    public required string Family { get; init; }
    /// <summary>What the time is divided by: page, op, pte or stmt.</summary>
    public required string Unit { get; init; }
    public required Func<PreparedRun> Prepare { get; init; }
    /// <summary>The same pattern on the live kernel; null when there is none (simulator-only figures).</summary>
    public LiveBenchSpec? Live { get; init; }
    public IReadOnlyList<BenchTarget> Targets { get; init; } = [];
    public string Description { get; init; } = "";
}

/// <summary>
/// What <c>mthp_bench</c> runs for a pattern, and the THP settings (paths relative to
/// /sys/kernel/mm/transparent_hugepage) it runs under, on top of the simulator's defaults.
/// </summary>
public sealed record LiveBenchSpec(IReadOnlyDictionary<string, string> Settings, IReadOnlyList<string> Args);
