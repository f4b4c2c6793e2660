namespace MthpSim.Scenario.Syntax;

/// <summary><c>lseek FILE data|hole OFF</c>; Data selects SEEK_DATA, otherwise SEEK_HOLE.</summary>
public sealed record LseekStmt(SourceSpan Span, string Text, string File, bool Data, long Offset) : Statement(Span, Text);
