namespace MthpSim.Scenario.Syntax;

/// <summary><c>P pin|unpin REGION OFF LEN</c>: long-term (FOLL_LONGTERM) pin or its release.</summary>
public sealed record PinStmt(SourceSpan Span, string Text, string Process, string Region, long Offset, long Length, bool IsPin) : Statement(Span, Text);
