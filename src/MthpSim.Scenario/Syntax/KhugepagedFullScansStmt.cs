namespace MthpSim.Scenario.Syntax;

/// <summary><c>khugepaged full-scans N</c>: runs rounds until khugepaged/full_scans grew by N.</summary>
public sealed record KhugepagedFullScansStmt(SourceSpan Span, string Text, long Count) : Statement(Span, Text);
