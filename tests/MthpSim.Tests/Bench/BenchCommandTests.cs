using System.Text.Json;
using MthpSim.Bench;
using MthpSim.Cli.Progress;
using Spectre.Console;
using MthpSim.Tests.Scenarios;
using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Bench;

/// <summary>
/// <c>mthpsim bench</c> runs every pattern and reports it; no assertion here is about speed (timing
/// targets are judged by the bench itself, never by tests). Host bytes are read from the process's
/// managed heap, which tests running alongside would move: this class runs alone.
/// </summary>
[Collection("process-wide measurement")]
public class BenchCommandTests
{
    [Fact]
    public void Quick_json_reports_every_pattern_with_positive_figures()
    {
        var (code, stdout, stderr) = Run("bench", "--quick", "--json", "--runs", "1");
        Assert.True(code == 0, stderr);
        MthpSim.Tests.Cli.JsonSchemaTests.AssertMatchesSchema("bench", stdout);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("quick", root.GetProperty("scale").GetString());
        Assert.False(root.GetProperty("vsKernel").GetBoolean());
        var names = root.GetProperty("patterns").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToList();
        var expected = BenchSuite.Create(BenchScale.Quick, Path.Combine(RepoPaths.Root, "scenarios")).Select(p => p.Name).ToList();
        Assert.Equal(expected, names);
        Assert.Contains("write-16K", names);
        Assert.Contains("khugepaged-scan-pte-mapped-2M", names);
        Assert.Contains("scenario:scenarios/examples/fault-64k.mthp", names);
        foreach (var p in root.GetProperty("patterns").EnumerateArray())
        {
            string name = p.GetProperty("name").GetString()!;
            Assert.True(p.GetProperty("units").GetInt64() > 0, name);
            Assert.True(p.GetProperty("simNsPerUnit").GetDouble() > 0, name);
            Assert.True(p.GetProperty("allocBytesPerUnit").GetDouble() >= 0, name);
            Assert.Equal(JsonValueKind.Null, p.GetProperty("ratio").ValueKind);
        }
        // Patterns that leave memory in use report host bytes per page.
        var write = root.GetProperty("patterns").EnumerateArray().First(p => p.GetProperty("name").GetString() == "write-4K");
        Assert.True(write.GetProperty("hostBytesPerPage").GetDouble() > 0);
        Assert.True(write.GetProperty("residentPages").GetInt64() >= 4096);
    }

    [Fact]
    public void Table_lists_the_filtered_patterns_and_their_targets()
    {
        var (code, stdout, stderr) = Run("bench", "--quick", "--runs", "1", "--filter", "khugepaged-scan");
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("mthpsim bench: quick suite, median of 1 run(s)", lines[0]);
        Assert.StartsWith("pattern", lines[1]);
        Assert.Equal(["khugepaged-scan-4K", "khugepaged-scan-64K", "khugepaged-scan-pte-mapped-2M"], lines[2..5].Select(l => l.Split(' ')[0]));
        Assert.All(lines[2..5], l => Assert.Contains(">=200M pte/s", l));
        Assert.StartsWith("targets: ", lines[5]);
    }

    [Fact]
    public void On_a_terminal_progress_counts_pattern_runs_and_stdout_keeps_its_table()
    {
        var terminal = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(terminal), Interactive = InteractionSupport.Yes, Ansi = AnsiSupport.Yes,
        });
        console.Profile.Width = 120;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] args = ["bench", "--quick", "--runs", "1", "--filter", "khugepaged-scan"];
        int code = MthpSim.Cli.Program.Run(args, stdout, stderr, new LongCommandHooks(ProgressDisplay.On(console), Interruption.Never));
        Assert.True(code == 0, stderr.ToString());
        string drawn = terminal.ToString();
        Assert.True(drawn.Contains("pattern runs/s") && drawn.Contains("6/6"), drawn);   // 3 patterns, warm-up and 1 run
        Assert.Equal("", stderr.ToString());   // the pattern lines are for logs only
        var plain = Run(args);
        Assert.Contains("bench: pattern 1 of 3: khugepaged-scan-4K", plain.stderr);
        // Figures differ from run to run; the table's title and rows do not.
        Assert.Equal(Lines(plain.stdout)[0], Lines(stdout.ToString())[0]);
        Assert.Equal(Lines(plain.stdout).Select(l => l.Split(' ')[0]), Lines(stdout.ToString()).Select(l => l.Split(' ')[0]));
    }

    static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Theory]
    [InlineData("--runs", "0")]
    [InlineData("--runs", "many")]
    [InlineData("--filter", "no-such-pattern")]
    [InlineData("--frobnicate")]
    public void Bad_arguments_exit_2(params string[] args)
    {
        var (code, _, _) = Run(["bench", "--quick", .. args]);
        Assert.Equal(2, code);
    }
}

/// <summary>Tests that read process-wide figures (the managed heap's size) run with no other test at the same time.</summary>
[CollectionDefinition("process-wide measurement", DisableParallelization = true)]
public sealed class ProcessWideMeasurementCollection;
