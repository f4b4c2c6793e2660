namespace MthpSim.Scenario.Syntax;

// Line-at-a-time parsing, for tools that build a scenario as they run it (the fuzzer): the same
// checks as a whole file, with the names bound by earlier lines.
public sealed partial class ScenarioParser
{
    int _incrementalLine;

    /// <summary>A parser that is fed one line at a time with <see cref="ParseNext"/>.</summary>
    public static ScenarioParser Incremental(string fileName) => new(fileName);

    /// <summary>Parses the next line: its statement (null for a blank or comment line), or the error.</summary>
    public (Statement? Statement, Diagnostic? Error) ParseNext(string text)
    {
        _incrementalLine++;
        int statements = _statements.Count, errors = _errors.Count;
        foreach (var line in Lexer.Lines(text))
            ParseLine(line with { Number = _incrementalLine });
        if (_errors.Count > errors) return (null, _errors[^1]);
        return (_statements.Count > statements ? _statements[^1] : null, null);
    }
}
