namespace MthpSim.Scenario.Syntax;

/// <summary><c>cgroup CG usage|max_usage</c>: kB charged to the cgroup now, or at most so far.</summary>
public sealed record CgroupObs(SourceSpan Span, string Cgroup, bool Max) : Observable(Span)
{
    public override string ToString() => $"cgroup {Cgroup} {(Max ? "max_usage" : "usage")}";
}
