namespace MthpSim.Scenario.Syntax;

/// <summary>Reads the words of one line in order. Running out of words or leaving extra ones
/// raises a <see cref="SyntaxError"/> that says what was expected and where.</summary>
internal sealed class TokenCursor(SourceLine line)
{
    private int _next;

    public SourceLine Line { get; } = line;

    public bool AtEnd => _next >= Line.Tokens.Count;

    /// <summary>How many words are left on the line.</summary>
    public int Remaining => Line.Tokens.Count - _next;

    public Token? Peek() => AtEnd ? null : Line.Tokens[_next];

    /// <summary>The next word; <paramref name="expected"/> describes it for the error when the line ends early.</summary>
    public Token Next(string expected)
    {
        if (AtEnd)
            throw new SyntaxError(Line.EndColumn, $"expected {expected}, got end of line");
        return Line.Tokens[_next++];
    }

    public bool TryNext(out Token token)
    {
        if (AtEnd)
        {
            token = default;
            return false;
        }
        token = Line.Tokens[_next++];
        return true;
    }

    /// <summary>The statement is complete; any further word is an error.</summary>
    public void End(string statement)
    {
        if (!AtEnd)
        {
            var extra = Line.Tokens[_next];
            throw new SyntaxError(extra.Column, $"unexpected {Echo.Quote(extra.Text)} after the end of the {statement} statement");
        }
    }

    public SourceSpan Span(string file, Token token) => new(file, Line.Number, token.Column);
}
