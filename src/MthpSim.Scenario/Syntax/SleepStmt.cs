namespace MthpSim.Scenario.Syntax;

/// <summary><c>sleep DURATION</c>: advances the virtual clock, running background work due in that time.</summary>
public sealed record SleepStmt(SourceSpan Span, string Text, long Milliseconds) : Statement(Span, Text);
