using MthpSim.Core.Cost;

namespace MthpSim.Scenario.Syntax;

/// <summary><c>P cost [KIND]</c>: the kernel CPU time the cost model estimates for the process's work (of one operation kind), in µs.</summary>
public sealed record CostObs(SourceSpan Span, string Process, CostOp? Op) : Observable(Span)
{
    public override string ToString() => Op is CostOp op ? $"{Process} cost {CostOpNames.Name(op)}" : $"{Process} cost";
}
