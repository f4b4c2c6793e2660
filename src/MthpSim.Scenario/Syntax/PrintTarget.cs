namespace MthpSim.Scenario.Syntax;

/// <summary>What a print statement shows.</summary>
public abstract record PrintTarget;

/// <summary>print OBSERVABLE: the same value an expect would compare.</summary>
public sealed record PrintObservable(Observable Observable) : PrintTarget;

/// <summary>print P smaps [REGION], P thpmaps [REGION], stats, vmstat, sysfs, khugepaged trace.
/// Process and Region are null where the form does not name them.</summary>
public sealed record PrintView(ViewKind Kind, string? Process, string? Region) : PrintTarget;
