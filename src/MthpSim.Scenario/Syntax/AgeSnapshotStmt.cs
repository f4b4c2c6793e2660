using MthpSim.Core.PageAlloc;

namespace MthpSim.Scenario.Syntax;

/// <summary><c>age snapshot FILE</c>: the state of the zone a /proc/pagetypeinfo capture recorded (an extension of the language).</summary>
public sealed record AgeSnapshotStmt(SourceSpan Span, string Text, string Path, PagetypeSnapshot Snapshot) : Statement(Span, Text);
