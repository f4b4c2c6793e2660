namespace MthpSim.Scenario.Syntax;

/// <summary><c>file FILE on MOUNT [SIZE]</c>: open(O_CREAT) on a tmpfs mount, then ftruncate(SIZE) (0 by default).</summary>
public sealed record FileStmt(SourceSpan Span, string Text, string File, string Mount, long Size) : Statement(Span, Text);
