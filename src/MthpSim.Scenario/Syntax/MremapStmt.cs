namespace MthpSim.Scenario.Syntax;

/// <summary><c>P mremap REGION NEWADDR|any NEWLEN</c>; NewAddr null means any (no MREMAP_FIXED).</summary>
public sealed record MremapStmt(SourceSpan Span, string Text, string Process, string Region, long? NewAddr, long NewLength) : Statement(Span, Text);
