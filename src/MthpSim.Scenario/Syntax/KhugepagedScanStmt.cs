namespace MthpSim.Scenario.Syntax;

/// <summary><c>khugepaged scan [N]</c>; Rounds null means the default (the runner decides, one round).</summary>
public sealed record KhugepagedScanStmt(SourceSpan Span, string Text, long? Rounds) : Statement(Span, Text);
