namespace MthpSim.Scenario.Syntax;

/// <summary><c>P madvise REGION OFF LEN ADVICE</c>.</summary>
public sealed record MadviseStmt(SourceSpan Span, string Text, string Process, string Region, long Offset, long Length, Advice Advice) : Statement(Span, Text);
