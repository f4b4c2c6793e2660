namespace MthpSim.Scenario.Syntax;

/// <summary><c>compact</c>: a write to /proc/sys/vm/compact_memory (an extension of the language).</summary>
public sealed record CompactStmt(SourceSpan Span, string Text) : Statement(Span, Text);
