namespace MthpSim.Scenario.Syntax;

/// <summary>A lexed line: the words, the statement text (comment removed, trimmed) and the
/// column just past the last word, used when an expected word is missing.</summary>
internal sealed record SourceLine(int Number, string Text, IReadOnlyList<Token> Tokens, int EndColumn);
