namespace MthpSim.Scenario.Syntax;

/// <summary><c>P thpmaps REGION KEY</c>: kB under a thpmaps key; the runner validates KEY (at NameSpan).</summary>
public sealed record ThpmapsObs(SourceSpan Span, string Process, string Region, string Key, SourceSpan NameSpan) : Observable(Span)
{
    public override string ToString() => $"{Process} thpmaps {Region} {Key}";
}
