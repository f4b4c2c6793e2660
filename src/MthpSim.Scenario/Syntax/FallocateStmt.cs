namespace MthpSim.Scenario.Syntax;

/// <summary><c>fallocate FILE punch|alloc OFF LEN</c>; Punch is FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE.</summary>
public sealed record FallocateStmt(SourceSpan Span, string Text, string File, bool Punch, long Offset, long Length) : Statement(Span, Text);
