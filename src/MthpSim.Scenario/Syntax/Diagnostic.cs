namespace MthpSim.Scenario.Syntax;

/// <summary>One error found in a scenario file. Column is the column of the offending
/// word (or just past the end of the line when a word is missing).</summary>
public sealed record Diagnostic(string File, int Line, int Column, string Message)
{
    public SourceSpan Span => new(File, Line, Column);

    // Same shape as compiler errors so that editors and CI logs can jump to the spot; a file name
    // with a line break or control character in it is escaped, so the error stays one line.
    public override string ToString() => $"{Echo.Escape(File)}:{Line}:{Column}: error: {Message}";
}
