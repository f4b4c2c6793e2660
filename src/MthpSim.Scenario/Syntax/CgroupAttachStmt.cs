namespace MthpSim.Scenario.Syntax;

/// <summary><c>P cgroup CG</c>: moves the process into the cgroup (rc -ESRCH when it no longer exists).</summary>
public sealed record CgroupAttachStmt(SourceSpan Span, string Text, string Process, string Cgroup) : Statement(Span, Text);
