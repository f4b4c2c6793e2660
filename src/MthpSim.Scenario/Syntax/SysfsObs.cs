namespace MthpSim.Scenario.Syntax;

/// <summary><c>sysfs PATH</c>. The path is not checked here; NameSpan lets the runner report
/// an unknown file at the path's own column.</summary>
public sealed record SysfsObs(SourceSpan Span, string Path, SourceSpan NameSpan) : Observable(Span)
{
    public override string ToString() => $"sysfs {Path}";
}
