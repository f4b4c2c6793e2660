namespace MthpSim.Scenario.Syntax;

/// <summary><c>P munmap REGION [OFF LEN]</c>; Offset and Length are both null for the whole region.</summary>
public sealed record MunmapStmt(SourceSpan Span, string Text, string Process, string Region, long? Offset, long? Length) : Statement(Span, Text);
