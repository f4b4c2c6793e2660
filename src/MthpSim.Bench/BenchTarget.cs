using System.Globalization;

namespace MthpSim.Bench;

/// <summary>What a target limits.</summary>
public enum TargetKind
{
    /// <summary>kernel ns / simulator ns at least the limit (only with --vs-kernel).</summary>
    RatioAtLeast,
    /// <summary>simulator units per second at least the limit (khugepaged PTEs/s, fuzz ops/s).</summary>
    RateAtLeast,
    /// <summary>simulator ns per unit below the limit (VMA operations).</summary>
    NsPerUnitBelow,
    /// <summary>host bytes per simulated resident page at most the limit.</summary>
    BytesPerPageAtMost,
}

/// <summary>One of issue 9's targets, as it applies to a pattern.</summary>
public sealed record BenchTarget(TargetKind Kind, double Limit)
{
    /// <summary>The speed the simulator must keep over the live kernel on every pattern both run.</summary>
    public static BenchTarget KernelRatio { get; } = new(TargetKind.RatioAtLeast, 25);
    public static BenchTarget KhugepagedPtesPerSecond { get; } = new(TargetKind.RateAtLeast, 200e6);
    public static BenchTarget VmaOpNs { get; } = new(TargetKind.NsPerUnitBelow, 2000);
    public static BenchTarget FuzzOpsPerSecond { get; } = new(TargetKind.RateAtLeast, 20_000);
    public static BenchTarget HostBytesPerPage { get; } = new(TargetKind.BytesPerPageAtMost, 24);

    /// <summary>How the target reads in the report, e.g. <c>ratio>=25x</c>, <c>>=200M pte/s</c>.</summary>
    public string Describe(string unit) => Kind switch
    {
        TargetKind.RatioAtLeast => $"ratio>={Num(Limit)}x",
        TargetKind.RateAtLeast => $">={Rate(Limit)} {unit}/s",
        TargetKind.NsPerUnitBelow => $"<{Num(Limit)}ns/{unit}",
        _ => $"<={Num(Limit)}B/page",
    };

    /// <summary>The measured value the target is judged on, or null when it does not apply to this run.</summary>
    public double? ValueOf(PatternResult r) => Kind switch
    {
        TargetKind.RatioAtLeast => r.Ratio,
        TargetKind.RateAtLeast => r.SimNsPerUnit > 0 ? 1e9 / r.SimNsPerUnit : null,
        TargetKind.NsPerUnitBelow => r.SimNsPerUnit,
        _ => r.HostBytesPerPage,
    };

    public bool Passes(double value) => Kind switch
    {
        TargetKind.RatioAtLeast or TargetKind.RateAtLeast => value >= Limit,
        TargetKind.NsPerUnitBelow => value < Limit,
        _ => value <= Limit,
    };

    static string Num(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    internal static string Rate(double v) => v >= 1e6 ? Num(v / 1e6) + "M" : v >= 1e3 ? Num(v / 1e3) + "k" : Num(v);
}
