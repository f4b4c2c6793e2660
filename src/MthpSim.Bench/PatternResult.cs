namespace MthpSim.Bench;

/// <summary>One target's verdict for a pattern.</summary>
public sealed record TargetResult(string Target, double Value, bool Pass);

/// <summary>
/// A pattern's figures: medians over the measured runs. Host bytes per page is null when fewer than
/// <see cref="PatternResult.MinResidentPages"/> simulated pages stay in use (after munmap, say) or when
/// most pages a per-page pattern touched are not resident (reads map zero pages); the
/// kernel figures and the ratio are null without --vs-kernel or for simulator-only patterns.
/// </summary>
public sealed record PatternResult(
    string Name, string Family, string Unit, long Units, int Runs,
    double SimNsPerUnit, double AllocBytesPerUnit, long ResidentPages, double? HostBytesPerPage,
    long? KernelUnits, double? KernelNsPerUnit, double? Ratio)
{
    public const long MinResidentPages = 256;
    public List<TargetResult> Targets { get; } = new();
    public string Description { get; init; } = "";
}

/// <summary>What <c>mthpsim bench</c> measured; interrupted, only the patterns with a measured round.</summary>
public sealed record BenchReport(string Scale, int Runs, bool VsKernel, string? KernelRelease, IReadOnlyList<PatternResult> Patterns)
{
    public bool Interrupted { get; init; }

    public IEnumerable<TargetResult> FailedTargets => Patterns.SelectMany(p => p.Targets).Where(t => !t.Pass);
}
