using System.Text.RegularExpressions;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Docs;

/// <summary>
/// docs/scenario-language.md is the language reference; its examples are tested so it cannot go
/// stale. Every ```mthp block is run according to its first line (the convention the page states
/// at its top): "# runs" must pass with invariants checked, "# error: L:C: TEXT" must be refused
/// there with TEXT, "# aborts: TEXT" must stop with TEXT, any other block must parse and validate.
/// And every statement, operation, observable, advice and print form the parser knows must
/// appear in an example.
/// </summary>
public class LanguageDocTests
{
    const string DocPath = "docs/scenario-language.md";

    /// <summary>A fenced mthp block: the doc line its first line is on, and its text.</summary>
    public sealed record Block(int Line, string Text)
    {
        public string FirstLine => Text.Split('\n')[0].Trim();
        /// <summary>Under the repository's absolute path, so a relative path in an example (a trace to replay) resolves as from the doc.</summary>
        public string Name => $"{Path.Combine(Scenarios.RepoPaths.Root, DocPath)}, block at line {Line}";
        public override string ToString() => Name;
    }

    static readonly Regex Fence = new(@"^```mthp[ \t]*\r?\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline);
    static readonly Regex ErrorMarker = new(@"^#\s*error:\s*(\d+):(\d+):\s*(.+)$");
    static readonly Regex AbortMarker = new(@"^#\s*aborts:\s*(.+)$");

    public static IReadOnlyList<Block> Blocks(string doc) =>
        Fence.Matches(doc)
            .Select(m => new Block(doc[..m.Groups[1].Index].Count(c => c == '\n') + 1, m.Groups[1].Value))
            .ToList();

    static string ReadDoc() => File.ReadAllText(Path.Combine(RepoPaths.Root, DocPath));

    public static TheoryData<int> BlockLines()
    {
        var data = new TheoryData<int>();
        foreach (var b in Blocks(ReadDoc())) data.Add(b.Line);
        return data;
    }

    [Fact]
    public void The_reference_has_examples_of_every_kind()
    {
        var blocks = Blocks(ReadDoc());
        Assert.Contains(blocks, b => b.FirstLine == "# runs");
        Assert.Contains(blocks, b => ErrorMarker.IsMatch(b.FirstLine));
        Assert.Contains(blocks, b => AbortMarker.IsMatch(b.FirstLine));
    }

    [Theory]
    [MemberData(nameof(BlockLines))]
    public void Example_does_what_its_marker_says(int line)
    {
        var block = Assert.Single(Blocks(ReadDoc()), b => b.Line == line);
        string first = block.FirstLine;
        if (first == "# runs")
        {
            var result = ScenarioRunner.RunText(block.Name, block.Text, new RunOptions { CheckInvariants = true });
            Assert.True(result.Passed, Report(result));
            Assert.True(result.Expectations.Count > 0, $"{block.Name} is marked '# runs' but checks nothing (no expect)");
        }
        else if (ErrorMarker.Match(first) is { Success: true } error)
        {
            var result = ScenarioRunner.RunText(block.Name, block.Text, new RunOptions());
            int l = int.Parse(error.Groups[1].Value), c = int.Parse(error.Groups[2].Value);
            string text = error.Groups[3].Value.Trim();
            Assert.True(result.ExitCode == 2, $"{block.Name} should be refused, but {(result.Passed ? "it ran" : Report(result))}");
            Assert.True(result.Invalid.Any(d => d.Line == l && d.Column == c && d.Message.Contains(text, StringComparison.Ordinal)),
                $"{block.Name} should be refused at {l}:{c} with '{text}', but got:\n{Report(result)}");
        }
        else if (AbortMarker.Match(first) is { Success: true } abort)
        {
            var result = ScenarioRunner.RunText(block.Name, block.Text, new RunOptions { CheckInvariants = true });
            Assert.True(result.Invalid.Count == 0, Report(result));
            Assert.True(result.Aborted?.Contains(abort.Groups[1].Value.Trim(), StringComparison.Ordinal) == true,
                $"{block.Name} should stop with '{abort.Groups[1].Value.Trim()}', but got:\n{Report(result)}");
        }
        else
        {
            var result = new RunResult { File = block.Name };
            Assert.True(ScenarioRunner.Prepare(block.Name, block.Text, result) != null, Report(result));
        }
    }

    static string Report(RunResult r) => string.Join("\n", r.Invalid.Select(d => d.ToString())
        .Concat(r.Failures.Select(f => f.Describe())).Append(r.Aborted ?? ""));

    /// <summary>The examples the tool accepts (all but "# error:" ones), as lexed lines and parsed statements.</summary>
    static (List<IReadOnlyList<string>> Lines, List<Statement> Statements) ValidExamples(string doc)
    {
        var lines = new List<IReadOnlyList<string>>();
        var statements = new List<Statement>();
        foreach (var b in Blocks(doc).Where(b => !ErrorMarker.IsMatch(b.FirstLine)))
        {
            var parsed = ScenarioParser.Parse(b.Name, b.Text);
            Assert.True(parsed.Success, string.Join("\n", parsed.Errors));
            statements.AddRange(parsed.Statements);
            lines.AddRange(Lexer.Lines(b.Text).Where(l => l.Tokens.Count > 0).Select(l => l.Tokens.Select(t => t.Text).ToList()));
        }
        return (lines, statements);
    }

    /// <summary>What the parser knows, from its own keyword lists, each with whether a valid example uses it.</summary>
    public static IEnumerable<string> MissingFromExamples(string doc)
    {
        var (lines, statements) = ValidExamples(doc);
        bool IsKeyword(string w) => Keywords.Statements.Contains(w);

        foreach (var word in Keywords.Statements.Where(w => !lines.Any(l => l[0] == w)))
            yield return $"statement '{word}'";
        foreach (var verb in Keywords.Verbs.Where(v => !lines.Any(l => l.Count > 1 && !IsKeyword(l[0]) && l[1] == v)))
            yield return $"operation 'P {verb}'";
        foreach (var head in Keywords.GlobalObservables.Where(h => !lines.Any(l => l[0] == "expect" && l.Count > 1 && l[1] == h)))
            yield return $"observable '{head} ...' in an expect";
        foreach (var kind in Keywords.ProcessObservables.Where(k =>
                     !lines.Any(l => l[0] == "expect" && l.Count > 2 && !Keywords.GlobalObservables.Contains(l[1]) && l[2] == k)))
            yield return $"observable 'P {kind}' in an expect";
        foreach (var advice in Keywords.Advices.Keys.Where(a => !lines.Any(l => l.Count == 6 && l[1] == "madvise" && l[5] == a)))
            yield return $"madvise advice '{advice}'";

        // The syntax tree, so a statement or observable added without a keyword list entry is caught too.
        var observables = statements.Select(s => s switch
        {
            ExpectStmt e => e.Lhs,
            PrintStmt { Target: PrintObservable po } => po.Observable,
            _ => null,
        }).OfType<Observable>().ToList();
        var views = statements.OfType<PrintStmt>().Select(p => p.Target).OfType<PrintView>().Select(v => v.Kind).ToHashSet();
        foreach (var type in typeof(Statement).Assembly.GetTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(Statement))))
            if (!statements.Any(s => s.GetType() == type))
                yield return $"statement kind {type.Name}";
        foreach (var type in typeof(Observable).Assembly.GetTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(Observable))))
            if (!observables.Any(o => o.GetType() == type))
                yield return $"observable kind {type.Name}";
        foreach (var kind in Enum.GetValues<ViewKind>().Where(k => !views.Contains(k)))
            yield return $"print view {kind}";
        foreach (var attr in Enum.GetValues<FolioAttr>().Where(a => !observables.OfType<FolioObs>().Any(o => o.Attr == a)))
            yield return $"folio attribute {attr}";
        foreach (var attr in Enum.GetValues<FileAttr>().Where(a => !observables.OfType<FileObs>().Any(o => o.Attr == a)))
            yield return $"file attribute {attr}";
        foreach (var max in new[] { false, true }.Where(m => !observables.OfType<CgroupObs>().Any(o => o.Max == m)))
            yield return max ? "cgroup max_usage" : "cgroup usage";

        // Words the page must at least explain.
        foreach (var key in Keywords.MachineKeys.Where(k => !doc.Contains($"`{k}", StringComparison.Ordinal)))
            yield return $"machine key '{key}'";
        foreach (var word in Keywords.CollapsePolicies.Concat(Keywords.SwapDevs).Concat(Keywords.RmwModes).Concat(Keywords.Reserved)
                     .Where(w => !doc.Contains(w, StringComparison.Ordinal)))
            yield return $"word '{word}'";
        foreach (var errno in NumberSyntax.Errnos.Keys.Where(e => !doc.Contains($"-{e}", StringComparison.Ordinal)))
            yield return $"errno name '-{errno}'";
    }

    [Fact]
    public void Every_statement_and_observable_the_parser_knows_has_an_example()
    {
        var missing = MissingFromExamples(ReadDoc()).ToList();
        Assert.True(missing.Count == 0, $"{DocPath} has no example of: {string.Join(", ", missing)}");
    }

    /// <summary>The coverage check can fail: with the examples of one statement taken out, it names it.</summary>
    [Theory]
    [InlineData("pread", "statement 'pread'")]
    [InlineData("p pin", "operation 'P pin'")]
    [InlineData("expect p majflt", "observable 'P majflt' in an expect")]
    [InlineData("print khugepaged trace", "print view KhugepagedTrace")]
    public void Removing_every_example_of_a_statement_is_noticed(string linePrefix, string expected)
    {
        var doc = ReadDoc();
        var withoutIt = string.Join('\n', doc.Split('\n').Where(l => !l.StartsWith(linePrefix + " ", StringComparison.Ordinal) && l.TrimEnd() != linePrefix));
        Assert.NotEqual(doc, withoutIt);
        Assert.Contains(expected, MissingFromExamples(withoutIt));
    }
}
