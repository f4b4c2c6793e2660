using System.Text.RegularExpressions;
using MthpSim.Tests.Cli;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Docs;

/// <summary>
/// Every comparison table in docs/collapse-policies.md is what `mthpsim compare` prints today for
/// its files and designs (the designs of its first group, in order). When one is stale, regenerate
/// them with MTHPSIM_UPDATE_DOCS=1 (see the test's message).
/// </summary>
public partial class CollapsePoliciesDocTests
{
    const string DocPath = "docs/collapse-policies.md";

    [GeneratedRegex(@"```\n(== scenarios/policies/.*?)```\n", RegexOptions.Singleline)]
    private static partial Regex CompareBlock();

    [Fact]
    public void Every_comparison_in_the_doc_is_what_compare_prints()
    {
        string path = Path.Combine(RepoPaths.Root, DocPath);
        string doc = File.ReadAllText(path);
        var blocks = CompareBlock().Matches(doc);
        Assert.True(blocks.Count >= 2, $"{DocPath}: no comparison tables found");
        var stale = new List<string>();
        string current = CompareBlock().Replace(doc, m =>
        {
            string block = m.Groups[1].Value;
            var lines = block.Split('\n');
            var files = lines.Where(l => l.StartsWith("== ", StringComparison.Ordinal)).Select(l => l[3..]).ToList();
            // The designs: the rows of the first group, between its header line and the next group.
            var policies = lines.Skip(2).TakeWhile(l => l.Length > 0 && !l.StartsWith("== ", StringComparison.Ordinal) && !l.StartsWith("anon kB", StringComparison.Ordinal))
                .Select(l => l.Split(' ')[0]).ToList();
            var (code, stdout, stderr) = CliRunner.Run(["compare", "--policy", string.Join(',', policies), .. files.Select(f => Path.Combine(RepoPaths.Root, f))]);
            Assert.True(code == 0, stderr);
            stdout = stdout.Replace("== " + RepoPaths.Root + "/", "== ", StringComparison.Ordinal);   // as the doc names them: from the repository
            if (stdout != block) stale.Add(files[0]);
            return "```\n" + stdout + "```\n";
        });
        if (stale.Count == 0) return;
        if (Environment.GetEnvironmentVariable("MTHPSIM_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, current);
            return;
        }
        Assert.Fail($"{DocPath}: the comparison starting with {string.Join(", ", stale)} is not what compare prints now. " +
                    "Regenerate: MTHPSIM_UPDATE_DOCS=1 dotnet test tests/MthpSim.Tests --filter FullyQualifiedName~CollapsePoliciesDocTests");
    }
}
