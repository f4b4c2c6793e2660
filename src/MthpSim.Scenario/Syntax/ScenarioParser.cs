namespace MthpSim.Scenario.Syntax;

/// <summary>Parses a scenario file into statements and checks every name and number before
/// anything runs: the spec says any error stops the run up front, with file, line, column and
/// what was expected. Errors are collected (the first of each line) so one pass shows them all.</summary>
public sealed partial class ScenarioParser
{
    private readonly string _file;
    private readonly Bindings _bindings = new();
    private readonly List<Statement> _statements = [];
    private readonly List<Diagnostic> _errors = [];
    private int? _machineLine;
    /// <summary>The machine statement, once read (a replayed trace must match its architecture and page size).</summary>
    private MachineStmt? _machine;
    private bool _sawStatement;

    private ScenarioParser(string file) => _file = file;

    public static ParseResult Parse(string fileName, string text)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(text);
        var parser = new ScenarioParser(fileName);
        foreach (var line in Lexer.Lines(text))
            parser.ParseLine(line);
        return new ParseResult(parser._statements.AsReadOnly(), parser._errors.AsReadOnly());
    }

    private void ParseLine(SourceLine line)
    {
        if (line.Tokens.Count == 0)
            return;
        var cursor = new TokenCursor(line);
        try
        {
            RequirePrintable(line);
            _statements.Add(ParseStatement(cursor));
        }
        catch (SyntaxError e)
        {
            _errors.Add(new Diagnostic(_file, line.Number, e.Column, e.Message));
        }
    }

    /// <summary>Words are printable text: a control or invisible character (a NUL, a vertical tab, a
    /// bidirectional override) would make a name or number differ from what every listing shows.</summary>
    private static void RequirePrintable(SourceLine line)
    {
        foreach (var t in line.Tokens)
            for (int i = 0; i < t.Text.Length; i++)
                if (!Echo.IsShown(t.Text[i]))
                    throw new SyntaxError(t.Column + i, $"unprintable character {Echo.Escape(t.Text[i].ToString())} in {Echo.Quote(t.Text)}; words are printable text separated by spaces or tabs");
    }

    private Statement ParseStatement(TokenCursor c)
    {
        var head = c.Next("a statement");
        var span = c.Span(_file, head);
        var text = c.Line.Text;
        // 'machine' must be first; remember whether anything came before this line.
        bool first = !_sawStatement;
        _sawStatement = true;

        switch (head.Text)
        {
            case "machine": return ParseMachine(c, head, span, text, first);
            case "sysfs": return ParseSysfs(c, span, text);
            case "policy": return ParsePolicy(c, span, text);
            case "process": return ParseProcess(c, span, text);
            case "memfd": return ParseMemfd(c, span, text);
            case "tmpfs": return ParseTmpfs(c, span, text);
            case "file": return ParseFile(c, span, text);
            case "pwrite": return ParseFileIo(c, span, text, write: true);
            case "pread": return ParseFileIo(c, span, text, write: false);
            case "ftruncate": return ParseFtruncate(c, span, text);
            case "fallocate": return ParseFallocate(c, span, text);
            case "lseek": return ParseLseek(c, span, text);
            case "sleep": return ParseSleep(c, span, text);
            case "reclaim": c.End("reclaim"); return new ReclaimStmt(span, text);
            case "age": return ParseAge(c, span, text);
            case "compact": c.End("compact"); return new CompactStmt(span, text);
            case "sysctl": return ParseSysctl(c, span, text);
            case "khugepaged": return ParseKhugepaged(c, span, text);
            case "expect": return ParseExpect(c, span, text);
            case "print": return ParsePrint(c, span, text);
            case "cgroup": return ParseCgroup(c, span, text);
            case "replay": return ParseReplay(c, span, text);
        }

        if (_bindings.Process(head.Text) is { } info)
        {
            // Moving a process that has exited is a valid request the kernel refuses (-ESRCH).
            if (info.ExitedLine != null && c.Peek() is { Text: "cgroup" })
            {
                c.Next("cgroup");
                return ParseCgroupAttach(c, head.Text, span, text);
            }
            return ParseProcessOperation(c, RequireLiveProcess(head), span, text);
        }
        throw UnknownStatement(c, head);
    }

    /// <summary>Builds the most helpful error for a first word that is neither a keyword nor a
    /// process: a verb without its process, a misspelled process, or a misspelled keyword.</summary>
    private SyntaxError UnknownStatement(TokenCursor c, Token head)
    {
        if (Keywords.Verbs.Contains(head.Text))
            return Error(head, $"unknown statement {Echo.Quote(head.Text)} (operations name their process first: 'PROC {head.Text} ...')");
        if (c.Peek() is { } second && Keywords.Verbs.Contains(second.Text))
            return Error(head, $"unknown process {Echo.Quote(head.Text)}{Suggestions.DidYouMean(head.Text, _bindings.LiveProcesses)}");
        return Error(head, $"unknown statement {Echo.Quote(head.Text)}{Suggestions.DidYouMean(head.Text, Keywords.Statements.Concat(Keywords.Verbs))}");
    }

    private SyntaxError Error(Token at, string message) => new(at.Column, message);

    /// <summary>A process named by a statement or observable must exist and not have exited.</summary>
    private string RequireLiveProcess(Token name)
    {
        var info = _bindings.Process(name.Text)
            ?? throw Error(name, $"unknown process {Echo.Quote(name.Text)}{Suggestions.DidYouMean(name.Text, _bindings.LiveProcesses)}");
        if (info.ExitedLine is { } exited)
            throw Error(name, $"process {Echo.Quote(name.Text)} has exited (line {exited}) and cannot be used any more");
        return name.Text;
    }

    private string RequireRegion(string process, Token name)
    {
        var regions = _bindings.Process(process)!.Regions;
        if (!regions.ContainsKey(name.Text))
            throw Error(name, $"unknown region {Echo.Quote(name.Text)} of process {Echo.Quote(process)}{Suggestions.DidYouMean(name.Text, regions.Keys)}");
        return name.Text;
    }

    private string RequireFile(Token name)
    {
        if (_bindings.FileLine(name.Text) is null)
            throw Error(name, $"unknown file {Echo.Quote(name.Text)} (create it first with 'memfd {Echo.Short(name.Text)} SIZE' or 'file {Echo.Short(name.Text)} on MOUNT')"
                + Suggestions.DidYouMean(name.Text, _bindings.Files));
        return name.Text;
    }

    /// <summary>A new process name: an identifier, not a reserved word, not used before.</summary>
    private string NewProcessName(Token name)
    {
        if (!IsIdentifier(name.Text))
            throw Error(name, $"expected a process name (an identifier such as p or worker_1), got {Echo.Quote(name.Text)}");
        if (Keywords.Reserved.Contains(name.Text))
            throw Error(name, $"{Echo.Quote(name.Text)} is a reserved word and cannot name a process");
        if (_bindings.Process(name.Text) is { } existing)
            throw Error(name, $"process {Echo.Quote(name.Text)} already exists (created at line {existing.CreatedLine})");
        return name.Text;
    }

    /// <summary>What every name the language binds (process, region, cgroup, tmpfs mount) must be: an ASCII
    /// letter or '_', then ASCII letters, digits and '_'. Nothing else, so two names that look alike are the same bytes.</summary>
    internal static bool IsIdentifier(string s) =>
        s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');

    /// <summary>A region name: an identifier that may also hold '-' and '.' (buf-1, heap.a).</summary>
    internal static bool IsRegionName(string s) =>
        s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.');

    /// <summary>Reads a fixed word from a small set, with a hint for typos.</summary>
    private static string OneOf(TokenCursor c, string what, IReadOnlyCollection<string> choices)
    {
        // The choices are spelled out only for an error.
        var t = c.AtEnd ? c.Next($"{what} ({FormatChoices(choices)})") : c.Next(what);
        if (!choices.Contains(t.Text))
            throw new SyntaxError(t.Column, $"expected {what} ({FormatChoices(choices)}), got {Echo.Quote(t.Text)}{Suggestions.DidYouMean(t.Text, choices)}");
        return t.Text;
    }

    internal static string FormatChoices(IEnumerable<string> choices)
    {
        var l = choices.ToList();
        return l.Count == 1 ? l[0] : string.Join(", ", l.Take(l.Count - 1)) + " or " + l[^1];
    }
}
