namespace MthpSim.Scenario.Syntax;

/// <summary><c>process NAME</c>: creates a process with an empty address space.</summary>
public sealed record ProcessStmt(SourceSpan Span, string Text, string Name) : Statement(Span, Text);
