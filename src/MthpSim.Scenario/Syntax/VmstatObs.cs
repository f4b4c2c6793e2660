namespace MthpSim.Scenario.Syntax;

/// <summary><c>vmstat NAME</c>: a /proc/vmstat counter; the runner validates NAME (at NameSpan).</summary>
public sealed record VmstatObs(SourceSpan Span, string Name, SourceSpan NameSpan) : Observable(Span)
{
    public override string ToString() => $"vmstat {Name}";
}
