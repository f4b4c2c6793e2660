namespace MthpSim.Scenario.Syntax;

/// <summary><c>P exit</c>: the process is gone; later statements may not name it.</summary>
public sealed record ExitStmt(SourceSpan Span, string Text, string Process) : Statement(Span, Text);
