namespace MthpSim.Scenario.Syntax;

/// <summary><c>print WHAT</c>: an observable or a multi-line view.</summary>
public sealed record PrintStmt(SourceSpan Span, string Text, PrintTarget Target) : Statement(Span, Text);
