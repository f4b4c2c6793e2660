using System.Text.Json;
using Json.Schema;
using MthpSim.Cli;
using MthpSim.Cli.Progress;
using MthpSim.Tests.Scenarios;
using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

/// <summary>
/// Every command's --json output is checked against its schema in docs/schemas/ (documented in
/// docs/json-output.md), so a key added, renamed or retyped without the docs fails here.
/// </summary>
public class JsonSchemaTests
{
    /// <summary>Fails with the schema's own account of what does not match.</summary>
    internal static void AssertMatchesSchema(string command, string json)
    {
        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(RepoPaths.Root, "docs/schemas", $"{command}.schema.json")));
        using var doc = JsonDocument.Parse(json);
        var result = schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{command} --json does not match docs/schemas/{command}.schema.json:\n" +
            string.Join("\n", (result.Details ?? []).Where(d => d.Errors != null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))) + "\n" + json);
    }

    static string Example => Path.Combine(RepoPaths.Root, "scenarios/examples/fault-64k.mthp");

    [Fact]
    public void Replay_json_matches_its_schema_with_and_without_a_truth_to_compare()
    {
        string dir = Path.Combine(RepoPaths.Root, "traces", "gcc");
        var (code, stdout, _) = Run("replay", "--json", Path.Combine(dir, "trace.mtrace"));
        Assert.Equal(0, code);
        AssertMatchesSchema("replay", stdout);
        (code, stdout, _) = Run("replay", "--json", Path.Combine(dir, "trace.mtrace"), "--compare-truth", Path.Combine(dir, "truth-64k.json"));
        Assert.Equal(0, code);
        AssertMatchesSchema("replay", stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("truth").GetProperty("within").GetBoolean());
        Assert.Equal(3, doc.RootElement.GetProperty("processes").GetArrayLength());   // gcc, cc1, as
    }

    [Fact]
    public void Run_json_matches_its_schema_for_passing_failing_invalid_and_unreadable_files()
    {
        string failing = Temp("process p\np mmap a any 2M\np write a 0 4K\nprint p smaps a\nexpect vmstat thp_fault_alloc == 99\n");
        string invalid = Temp("process p\np wrtie a 0 4K\n");
        string missing = Path.Combine(Path.GetTempPath(), $"mthpsim-missing-{Guid.NewGuid():N}.mthp");
        var (code, stdout, _) = Run("run", "--json", Example, failing, invalid, missing);
        Assert.Equal(2, code);
        AssertMatchesSchema("run", stdout);
    }

    [Fact]
    public void Run_json_of_an_interrupted_run_matches_its_schema()
    {
        var hooks = new LongCommandHooks(ProgressDisplay.None, () => Interrupting(System.Runtime.InteropServices.PosixSignal.SIGTERM));
        var o = new StringWriter();
        int code = Program.Run(["run", "--json", Example], o, new StringWriter(), hooks);
        Assert.Equal(143, code);
        AssertMatchesSchema("run", o.ToString());
        using var doc = JsonDocument.Parse(o.ToString());
        Assert.True(doc.RootElement.GetProperty("interrupted").GetBoolean());
    }

    [Fact]
    public void Compare_json_matches_its_schema_with_an_invalid_file_among_valid_ones()
    {
        var (code, stdout, _) = Run("compare", "--json", "--policy", "pmd-only,mthp", Example, Temp("process p\np wrtie a 0 4K\n"));
        Assert.Equal(2, code);
        AssertMatchesSchema("compare", stdout);
    }

    [Fact]
    public void Every_line_of_a_sweeps_results_matches_its_schema_for_passing_failing_error_and_trace_cells()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mthpsim-schema-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "s.mthp"), "sysfs khugepaged/max_ptes_none = 511\nprocess p\np mmap a 0x40000000 2M\np write a 0 1M\np madvise a 0 2M collapse\nexpect meminfo MemTotal == 16G\n");
        File.WriteAllText(Path.Combine(dir, "g.grid"), $"scenario s.mthp\ntrace {Path.Combine(RepoPaths.Root, "traces/sqlite3/trace.mtrace")}\nmachine memory = 16G | 8G\nsysfs khugepaged/max_ptes_none = 0 | 1000\n");
        string results = Path.Combine(dir, "r.jsonl");
        var (code, stdout, stderr) = Run("sweep", Path.Combine(dir, "g.grid"), "-o", results);
        Assert.True(code == 1, stdout + stderr);   // max_ptes_none=1000 is refused: error cells
        var lines = File.ReadAllLines(results);
        Assert.Equal(8, lines.Length);
        foreach (var line in lines) AssertMatchesSchema("sweep-cell", line);
        Assert.Equal(["pass", "error", "fail", "error", "pass", "error", "pass", "error"], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("outcome").GetString()));
    }

    /// <summary>An interruption that has already come, as if the signal arrived before the first statement.</summary>
    internal static Interruption Interrupting(System.Runtime.InteropServices.PosixSignal signal)
    {
        var i = Interruption.Never();
        i.Raise(signal);
        return i;
    }
}
