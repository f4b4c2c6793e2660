namespace MthpSim.Scenario.Syntax;

/// <summary><c>cgroup CG reclaim [SIZE]</c>: proactive reclaim in the cgroup, all it can when SIZE is omitted.</summary>
public sealed record CgroupReclaimStmt(SourceSpan Span, string Text, string Cgroup, long? Size) : Statement(Span, Text);
