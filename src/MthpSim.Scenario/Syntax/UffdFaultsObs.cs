namespace MthpSim.Scenario.Syntax;

/// <summary><c>P uffd faults</c>: faults delivered to the process's userfaultfd handler thread.</summary>
public sealed record UffdFaultsObs(SourceSpan Span, string Process) : Observable(Span)
{
    public override string ToString() => $"{Process} uffd faults";
}
