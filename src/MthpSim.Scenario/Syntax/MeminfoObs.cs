namespace MthpSim.Scenario.Syntax;

/// <summary><c>meminfo NAME</c>: a /proc/meminfo field in kB; the runner validates NAME (at NameSpan).</summary>
public sealed record MeminfoObs(SourceSpan Span, string Name, SourceSpan NameSpan) : Observable(Span)
{
    public override string ToString() => $"meminfo {Name}";
}
