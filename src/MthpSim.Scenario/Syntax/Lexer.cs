namespace MthpSim.Scenario.Syntax;

/// <summary>Splits a scenario line into words. The language has no quoting: '#' always starts
/// a comment and only spaces and tabs separate words (spec, lexical rules).</summary>
internal static class Lexer
{
    public static IEnumerable<SourceLine> Lines(string text)
    {
        // A UTF-8 BOM left by an editor is not part of the first word.
        if (text.Length > 0 && text[0] == '\uFEFF')
            text = text[1..];
        var raw = text.Split('\n');
        for (int i = 0; i < raw.Length; i++)
        {
            // Tolerate CRLF files: the '\r' is line-ending noise, not part of the last word.
            var line = raw[i].EndsWith('\r') ? raw[i][..^1] : raw[i];
            yield return Lex(i + 1, line);
        }
    }

    public static SourceLine Lex(int number, string line)
    {
        int hash = line.IndexOf('#');
        var content = hash >= 0 ? line[..hash] : line;
        var tokens = new List<Token>(8);
        int i = 0;
        while (i < content.Length)
        {
            if (IsSeparator(content[i])) { i++; continue; }
            int start = i;
            while (i < content.Length && !IsSeparator(content[i]))
                i++;
            // Columns count characters (a tab is one column), 1-based.
            tokens.Add(new Token(content[start..i], start + 1));
        }
        int end = tokens.Count == 0 ? 1 : tokens[^1].Column + tokens[^1].Text.Length;
        return new SourceLine(number, content.Trim(' ', '\t'), tokens, end);
    }

    private static bool IsSeparator(char c) => c == ' ' || c == '\t';
}
