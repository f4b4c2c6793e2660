namespace MthpSim.Scenario.Syntax;

/// <summary><c>P fork CHILD</c>: CHILD inherits a copy of the address space and the region names.</summary>
public sealed record ForkStmt(SourceSpan Span, string Text, string Process, string Child) : Statement(Span, Text);
