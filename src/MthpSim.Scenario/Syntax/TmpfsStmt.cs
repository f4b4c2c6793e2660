namespace MthpSim.Scenario.Syntax;

/// <summary><c>tmpfs MOUNT [huge=WORD] [size=SIZE]</c>: a private tmpfs mount. Huge is the word as written
/// (the mount refuses what the kernel refuses, at run time); Size null means the kernel's default.</summary>
public sealed record TmpfsStmt(SourceSpan Span, string Text, string Mount, string Huge, long? Size) : Statement(Span, Text);
