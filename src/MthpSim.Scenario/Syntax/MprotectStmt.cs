namespace MthpSim.Scenario.Syntax;

/// <summary><c>P mprotect REGION OFF LEN PROT</c>.</summary>
public sealed record MprotectStmt(SourceSpan Span, string Text, string Process, string Region, long Offset, long Length, Prot Prot) : Statement(Span, Text);
