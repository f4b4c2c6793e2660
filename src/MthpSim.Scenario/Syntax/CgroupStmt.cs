namespace MthpSim.Scenario.Syntax;

/// <summary>
/// <c>cgroup CG [limit=SIZE|max]</c>: makes a memory cgroup, or, when CG exists, sets its limit
/// (rc 0, or -EBUSY when reclaim cannot bring usage under the new limit). Limit null: none (max).
/// </summary>
public sealed record CgroupStmt(SourceSpan Span, string Text, string Cgroup, long? Limit, bool Exists) : Statement(Span, Text);
