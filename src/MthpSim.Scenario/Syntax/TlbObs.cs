namespace MthpSim.Scenario.Syntax;

/// <summary><c>P tlb entries</c>: TLB entries the process's present mappings need; <c>P tlb reach N</c>: kB a TLB of N entries reaches (<see cref="Entries"/> set).</summary>
public sealed record TlbObs(SourceSpan Span, string Process, long? Entries) : Observable(Span)
{
    public override string ToString() => Entries is long n ? $"{Process} tlb reach {n}" : $"{Process} tlb entries";
}
