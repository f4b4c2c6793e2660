namespace MthpSim.Scenario.Syntax;

/// <summary><c>sysfs PATH = VALUE</c>; PATH is relative to /sys/kernel/mm/transparent_hugepage/. VALUE is kept as text because the simulated kernel validates it (and sets rc).</summary>
public sealed record SysfsWriteStmt(SourceSpan Span, string Text, string Path, string Value) : Statement(Span, Text);
