namespace MthpSim.Scenario.Syntax;

/// <summary>What a print statement shows.</summary>
public abstract record PrintTarget;

/// <summary>print OBSERVABLE: the same value an expect would compare.</summary>
public sealed record PrintObservable(Observable Observable) : PrintTarget;

/// <summary>print P smaps [REGION], P thpmaps [REGION] [OPTIONS], stats, vmstat, meminfo, buddyinfo, sysfs,
/// khugepaged trace [extended]. Process and Region are null where the form does not name them.</summary>
public sealed record PrintView(ViewKind Kind, string? Process, string? Region, ThpmapsFormat? Thpmaps = null, bool Extended = false) : PrintTarget;

/// <summary>tools/mm/thpmaps' output options: --rollup, --inc-empty and --cont SIZE (in bytes, in the order given).</summary>
public sealed record ThpmapsFormat(bool Rollup, bool IncEmpty, IReadOnlyList<long> Cont)
{
    public static readonly ThpmapsFormat Default = new(false, false, []);
}
