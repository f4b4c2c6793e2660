namespace MthpSim.Scenario.Syntax;

/// <summary><c>P prctl thp_disable 0|1</c>.</summary>
public sealed record PrctlStmt(SourceSpan Span, string Text, string Process, string Option, long Value) : Statement(Span, Text);
