namespace MthpSim.Scenario.Syntax;

/// <summary><c>P contpte REGION</c>: kB of the region mapped by PTEs with arm64's contiguous bit (0 on x86_64).</summary>
public sealed record ContPteObs(SourceSpan Span, string Process, string Region) : Observable(Span)
{
    public override string ToString() => $"{Process} contpte {Region}";
}
