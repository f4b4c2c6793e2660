namespace MthpSim.Scenario.Syntax;

/// <summary><c>policy collapse = NAME</c>: selects the khugepaged collapse algorithm.</summary>
public sealed record PolicyStmt(SourceSpan Span, string Text, string Knob, string Value) : Statement(Span, Text);
