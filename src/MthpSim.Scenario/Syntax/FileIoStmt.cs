namespace MthpSim.Scenario.Syntax;

/// <summary><c>pwrite FILE OFF LEN</c> (new content in every page) or <c>pread FILE OFF LEN</c>.</summary>
public sealed record FileIoStmt(SourceSpan Span, string Text, string File, bool Write, long Offset, long Length) : Statement(Span, Text);
