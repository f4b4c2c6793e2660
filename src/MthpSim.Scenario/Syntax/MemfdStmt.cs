namespace MthpSim.Scenario.Syntax;

/// <summary><c>memfd FILE SIZE</c>: memfd_create + ftruncate.</summary>
public sealed record MemfdStmt(SourceSpan Span, string Text, string File, long Size) : Statement(Span, Text);
