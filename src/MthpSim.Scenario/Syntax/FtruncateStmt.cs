namespace MthpSim.Scenario.Syntax;

/// <summary><c>ftruncate FILE SIZE</c>.</summary>
public sealed record FtruncateStmt(SourceSpan Span, string Text, string File, long Size) : Statement(Span, Text);
