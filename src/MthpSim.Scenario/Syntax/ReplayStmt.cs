using MthpSim.Trace.Replay;

namespace MthpSim.Scenario.Syntax;

/// <summary><c>replay TRACE [as PREFIX]</c>: a recorded trace run from the current state; its processes become PREFIX1, PREFIX2, ...</summary>
public sealed record ReplayStmt(SourceSpan Span, string Text, string Path, string Prefix, IReadOnlyList<ReplayNames.Process> Processes) : Statement(Span, Text);
