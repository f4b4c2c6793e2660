namespace MthpSim.Scenario.Syntax;

/// <summary><c>P alive</c>: 1 while the process exists, 0 after its exit or an OOM kill.</summary>
public sealed record AliveObs(SourceSpan Span, string Process) : Observable(Span)
{
    public override string ToString() => $"{Process} alive";
}
