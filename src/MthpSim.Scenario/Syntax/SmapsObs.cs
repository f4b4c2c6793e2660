namespace MthpSim.Scenario.Syntax;

/// <summary><c>P smaps REGION FIELD</c>: a smaps field in kB; the runner validates FIELD (at NameSpan).</summary>
public sealed record SmapsObs(SourceSpan Span, string Process, string Region, string Field, SourceSpan NameSpan) : Observable(Span)
{
    public override string ToString() => $"{Process} smaps {Region} {Field}";
}
