namespace MthpSim.Scenario.Syntax;

/// <summary><c>expect LHS OP RHS</c>.</summary>
public sealed record ExpectStmt(SourceSpan Span, string Text, Observable Lhs, CompareOp Op, Operand Rhs) : Statement(Span, Text);
