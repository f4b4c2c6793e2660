namespace MthpSim.Scenario.Syntax;

/// <summary><c>rc</c>: result of the latest statement that sets it.</summary>
public sealed record RcObs(SourceSpan Span) : Observable(Span)
{
    public override string ToString() => "rc";
}
