using MthpSim.Core.PageAlloc;

namespace MthpSim.Scenario.Syntax;

/// <summary><c>age unmovable|reclaimable|pinned SIZE [scattered|clustered]</c>: memory the rest of a long-running machine holds (an extension of the language).</summary>
public sealed record AgeStmt(SourceSpan Span, string Text, AgeKind Kind, long Size, bool Scattered) : Statement(Span, Text);
