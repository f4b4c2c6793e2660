using MthpSim.Core.Cost;

namespace MthpSim.Scenario.Syntax;

/// <summary><c>P work UNIT [KIND]</c>: how many units of one kind of kernel work were done for the process (in one operation kind).</summary>
public sealed record WorkObs(SourceSpan Span, string Process, KernelWork Unit, CostOp? Op) : Observable(Span)
{
    public override string ToString() => $"{Process} work {KernelWorkNames.Name(Unit)}" + (Op is CostOp op ? $" {CostOpNames.Name(op)}" : "");
}
