namespace MthpSim.Scenario.Syntax;

/// <summary><c>P intact REGION</c>: 1 if every page holds what the program must see there.</summary>
public sealed record IntactObs(SourceSpan Span, string Process, string Region) : Observable(Span)
{
    public override string ToString() => $"{Process} intact {Region}";
}
