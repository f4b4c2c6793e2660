namespace MthpSim.Scenario.Syntax;

/// <summary><c>reclaim</c>: memory pressure now, as much reclaim as the machine can do (an extension of the language).</summary>
public sealed record ReclaimStmt(SourceSpan Span, string Text) : Statement(Span, Text);
