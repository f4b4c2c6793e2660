namespace MthpSim.Scenario.Syntax;

/// <summary><c>sysctl NAME = VALUE</c>: a write to /proc/sys/NAME with dots for slashes (an extension of the language); VALUE is text the simulated kernel validates (and sets rc).</summary>
public sealed record SysctlWriteStmt(SourceSpan Span, string Text, string Name, string Value) : Statement(Span, Text);
