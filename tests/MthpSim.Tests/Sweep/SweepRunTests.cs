using System.Text.Json.Nodes;
using MthpSim.Sweep.Grid;
using MthpSim.Sweep.Results;
using MthpSim.Sweep.Run;
using MthpSim.Tests.Cli;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Sweep;

/// <summary>
/// <c>mthpsim sweep</c>: every cell runs and is recorded once, the results do not depend on the
/// number of jobs or on sharding, a rerun finishes what a stopped one left, and the cell's values
/// reach the model (held settings, policies, machine options, traces).
/// </summary>
public class SweepRunTests
{
    static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mthpsim-sweep-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A small grid over two scenarios: 2 x 2 policies x 3 values = 12 cells.</summary>
    static string SmallGrid(string dir)
    {
        File.WriteAllText(Path.Combine(dir, "half.mthp"), """
            sysfs enabled = madvise
            sysfs khugepaged/max_ptes_none = 511
            process p
            p mmap buf 0x40000000 8M
            p write buf 0 8M step=64K each=32K
            p madvise buf 0 8M hugepage
            khugepaged full-scans 2
            expect p intact buf == 1
            expect sysfs khugepaged/pages_collapsed == 4
            """);
        File.WriteAllText(Path.Combine(dir, "quarter.mthp"), """
            sysfs enabled = madvise
            sysfs hugepages-64kB/enabled = inherit
            process p
            p mmap buf 0x40000000 4M
            p write buf 0 4M step=128K each=64K
            p madvise buf 0 4M hugepage
            khugepaged full-scans 2
            expect p intact buf == 1
            """);
        string grid = Path.Combine(dir, "small.grid");
        File.WriteAllText(grid, """
            scenario *.mthp
            policy collapse = pmd-only | mthp
            sysfs khugepaged/max_ptes_none = 0 | 255 | 511
            """);
        return grid;
    }

    static List<CellResult> Read(string path) => ResultsFile.Read(path, []);

    /// <summary>The lines without the one field that is host time.</summary>
    internal static string WithoutTimes(string path) =>
        string.Join("\n", File.ReadAllLines(path).Select(l => { var o = JsonNode.Parse(l)!.AsObject(); o.Remove("elapsedMs"); return o.ToJsonString(); }));

    [Fact]
    public void Every_cell_is_recorded_once_in_cell_order_with_its_values_and_outcome()
    {
        string dir = TempDir(), grid = SmallGrid(dir), results = Path.Combine(dir, "r.jsonl");
        var (code, stdout, stderr) = CliRunner.Run("sweep", grid, "-o", results, "--jobs", "2");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("12 cells (2 inputs x 2 policy x 3 khugepaged/max_ptes_none)", stdout);
        var r = Read(results);
        Assert.Equal(Enumerable.Range(0, 12), r.Select(x => x.Cell));
        Assert.All(r, x => Assert.Equal(MthpSim.Cli.Commands.SweepCommand.Version, x.Version));
        // half.mthp under pmd-only: the scenario's own max_ptes_none=511 is overridden; at 511 a
        // half-filled PMD collapses (4 of them), at 255 (257 present needed) and 0 none does.
        var half = r.Where(x => x.Input == "half.mthp" && x.Policy == "pmd-only").ToDictionary(x => x.Axes["khugepaged/max_ptes_none"]);
        Assert.Equal("pass", half["511"].Outcome);
        Assert.Equal("fail", half["255"].Outcome);
        Assert.Equal("fail", half["0"].Outcome);
        Assert.Equal(0, half["0"].Counters["sysfs/khugepaged/pages_collapsed"]);
        Assert.Contains("expect failed: expect sysfs khugepaged/pages_collapsed == 4", half["0"].Failed.Single());
        var overridden = Assert.Single(half["0"].Overridden);
        Assert.Equal((2, "khugepaged/max_ptes_none", "511", "0"), (overridden.Line, overridden.Path, overridden.Value, overridden.Held));
        Assert.Equal(4, half["511"].Counters["sysfs/khugepaged/pages_collapsed"]);
        Assert.Equal(8192, half["511"].Collapse!.MappedKbBySize["2048kB"]);
        // quarter.mthp (every other 64K written) at 0: mthp collapses the written 64K ranges, pmd-only
        // nothing. The policy reaches the model.
        var quarter = r.Where(x => x.Input == "quarter.mthp" && x.Axes["khugepaged/max_ptes_none"] == "0").ToDictionary(x => x.Policy!);
        Assert.Empty(quarter["pmd-only"].Collapse!.CollapsesBySize);
        Assert.Equal(32, quarter["mthp"].Collapse!.CollapsesBySize["64kB"]);
    }

    [Fact]
    public void Results_are_the_same_with_one_job_two_jobs_or_four_shards_merged()
    {
        string dir = TempDir(), grid = SmallGrid(dir);
        string one = Path.Combine(dir, "one.jsonl"), two = Path.Combine(dir, "two.jsonl"), merged = Path.Combine(dir, "merged.jsonl");
        Assert.Equal(0, CliRunner.Run("sweep", grid, "-o", one, "--jobs", "1").code);
        Assert.Equal(0, CliRunner.Run("sweep", grid, "-o", two, "--jobs", "2").code);
        var shards = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            string shard = Path.Combine(dir, $"shard-{i}.jsonl");
            var (code, stdout, stderr) = CliRunner.Run("sweep", grid, "-o", shard, "--shard", $"{i}/4");
            Assert.True(code == 0, stdout + stderr);
            Assert.Contains($"shard {i}/4 of 12 cells: 3 cells", stdout);
            Assert.All(Read(shard), r => Assert.Equal(i, r.Cell % 4));
            shards.Add(shard);
        }
        var m = CliRunner.Run(["sweep", "merge", grid, .. shards, "-o", merged]);
        Assert.True(m.code == 0, m.stdout + m.stderr);
        Assert.Contains("merged 12 of 12 cells", m.stdout);
        Assert.Equal(WithoutTimes(one), WithoutTimes(two));
        Assert.Equal(WithoutTimes(one), WithoutTimes(merged));
    }

    [Fact]
    public void A_rerun_runs_only_what_is_missing_and_an_unfinished_last_line_runs_again()
    {
        string dir = TempDir(), grid = SmallGrid(dir), results = Path.Combine(dir, "r.jsonl"), full = Path.Combine(dir, "full.jsonl");
        Assert.Equal(0, CliRunner.Run("sweep", grid, "-o", full).code);
        // As a killed sweep leaves it: five cells finished out of order, a sixth half written.
        var lines = File.ReadAllLines(full);
        File.WriteAllText(results, string.Join("\n", new[] { 7, 2, 0, 11, 5 }.Select(i => lines[i])) + "\n" + lines[3][..40]);
        var (code, stdout, stderr) = CliRunner.Run("sweep", grid, "-o", results);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("ran 7, 5 done before", stdout);
        Assert.Contains("r.jsonl:6: an unfinished line", stderr);
        Assert.Equal(WithoutTimes(full), WithoutTimes(results));
        // Everything done: nothing runs.
        Assert.Contains("ran 0, 12 done before", CliRunner.Run("sweep", grid, "-o", results).stdout);
    }

    [Fact]
    public void Results_of_another_grid_or_version_are_refused_and_merge_names_missing_and_conflicting_cells()
    {
        string dir = TempDir(), grid = SmallGrid(dir), results = Path.Combine(dir, "r.jsonl");
        Assert.Equal(0, CliRunner.Run("sweep", grid, "-o", results, "--shard", "0/3").code);
        string text = File.ReadAllText(results);

        File.WriteAllText(Path.Combine(dir, "other.jsonl"), text.Replace("half.mthp", "gone.mthp"));
        var foreign = CliRunner.Run("sweep", grid, "-o", Path.Combine(dir, "other.jsonl"));
        Assert.Equal(2, foreign.code);
        Assert.Contains("holds a cell this grid does not have (gone.mthp", foreign.stderr);

        var line = JsonNode.Parse(text.Split('\n')[0])!.AsObject();
        line["version"] = "0.0.1";
        File.WriteAllText(Path.Combine(dir, "old.jsonl"), line.ToJsonString() + "\n");
        var old = CliRunner.Run("sweep", grid, "-o", Path.Combine(dir, "old.jsonl"));
        Assert.Equal(2, old.code);
        Assert.Contains("was written by mthpsim 0.0.1", old.stderr);

        var missing = CliRunner.Run("sweep", "merge", grid, results, "-o", Path.Combine(dir, "m.jsonl"));
        Assert.Equal(1, missing.code);
        Assert.Contains("merged 4 of 12 cells", missing.stdout);
        Assert.Contains("missing 8 cells:\n  1 half.mthp policy=pmd-only khugepaged/max_ptes_none=255", missing.stdout);

        var changed = JsonNode.Parse(text.Split('\n')[0])!.AsObject();
        changed["counters"]!["vmstat/pgfault"] = 1;
        File.WriteAllText(Path.Combine(dir, "changed.jsonl"), changed.ToJsonString() + "\n");
        var conflict = CliRunner.Run("sweep", "merge", grid, results, Path.Combine(dir, "changed.jsonl"), "-o", Path.Combine(dir, "m.jsonl"));
        Assert.Equal(2, conflict.code);
        Assert.Contains("cell 0 (half.mthp policy=pmd-only khugepaged/max_ptes_none=0) has different results", conflict.stderr);
    }

    [Fact]
    public void Machine_options_win_over_the_scenarios_own_and_a_refused_setting_is_an_error_cell()
    {
        string dir = TempDir();
        File.WriteAllText(Path.Combine(dir, "m.mthp"), "machine memory=2G seed=3\nprocess p\nexpect meminfo MemTotal == 2G\n");
        File.WriteAllText(Path.Combine(dir, "g.grid"), "scenario m.mthp\nmachine memory = 2G | 4G\nsysfs enabled = always | sometimes\n");
        string results = Path.Combine(dir, "r.jsonl");
        var (code, stdout, stderr) = CliRunner.Run("sweep", Path.Combine(dir, "g.grid"), "-o", results);
        Assert.Equal(1, code);   // an error cell
        Assert.Contains("1 pass, 1 with a failed expectation, 2 error", stdout);
        var r = Read(results);
        Assert.Equal(["pass", "error", "fail", "error"], r.Select(x => x.Outcome));
        Assert.Equal(3UL, r[0].Seed);   // the scenario's own, where the grid does not vary it
        Assert.Contains("the held setting enabled = sometimes was refused by the kernel (EINVAL)", r[1].Error);
        Assert.Contains("cell 1 (m.mthp machine.memory=2G enabled=sometimes): ", stderr);
    }

    [Fact]
    public void Retried_errors_replace_their_lines_and_a_grid_that_gained_values_renumbers_the_cells_it_keeps()
    {
        string dir = TempDir(), results = Path.Combine(dir, "r.jsonl"), grid = Path.Combine(dir, "g.grid");
        File.WriteAllText(Path.Combine(dir, "m.mthp"), "process p\np mmap a any 2M\np write a 0 1M\n");
        File.WriteAllText(grid, "scenario m.mthp\nsysfs khugepaged/max_ptes_none = 1000 | 511\n");
        Assert.Equal(1, CliRunner.Run("sweep", grid, "-o", results).code);
        Assert.Contains("ran 0, 2 done before: 1 pass, 0 with a failed expectation, 1 error", CliRunner.Run("sweep", grid, "-o", results).stdout);
        var retried = CliRunner.Run("sweep", grid, "-o", results, "--retry-errors");
        Assert.Equal(1, retried.code);   // refused again: still an error, recorded once
        Assert.Contains("ran 1, 1 done before", retried.stdout);
        Assert.Equal([0, 1], Read(results).Select(r => r.Cell));

        // A value put first: the kept cells move up one place, and only the new one runs.
        File.WriteAllText(grid, "scenario m.mthp\nsysfs khugepaged/max_ptes_none = 0 | 1000 | 511\n");
        Assert.Contains("ran 1, 2 done before", CliRunner.Run("sweep", grid, "-o", results).stdout);
        var r = Read(results);
        Assert.Equal([0, 1, 2], r.Select(x => x.Cell));
        Assert.Equal(["0", "1000", "511"], r.Select(x => x.Axes["khugepaged/max_ptes_none"]));
    }

    [Fact]
    public void A_combination_of_machine_values_the_model_lacks_is_an_error_cell_that_says_why()
    {
        string dir = TempDir(), results = Path.Combine(dir, "r.jsonl");
        File.WriteAllText(Path.Combine(dir, "m.mthp"), "process p\n");
        File.WriteAllText(Path.Combine(dir, "g.grid"), "scenario m.mthp\nmachine arch = x86_64 | arm64\nmachine page = 4K | 64K\n");
        Assert.Equal(1, CliRunner.Run("sweep", Path.Combine(dir, "g.grid"), "-o", results).code);
        var r = Read(results);
        Assert.Equal(["pass", "error", "pass", "pass"], r.Select(x => x.Outcome));
        Assert.Equal("the cell's machine values:1:1: error: x86_64 has only 4K base pages", r[1].Error);
    }

    [Fact]
    public void A_trace_replays_under_each_cells_settings()
    {
        string dir = TempDir();
        string trace = Path.Combine(RepoPaths.Root, "traces", "xz", "trace.mtrace");
        File.WriteAllText(Path.Combine(dir, "t.grid"), $"trace {trace}\nsysfs hugepages-64kB/enabled = never | always\n");
        string results = Path.Combine(dir, "r.jsonl");
        var (code, stdout, stderr) = CliRunner.Run("sweep", Path.Combine(dir, "t.grid"), "-o", results);
        Assert.True(code == 0, stdout + stderr);
        var r = Read(results);
        Assert.All(r, x => Assert.Equal(("trace", "pass"), (x.Kind, x.Outcome)));
        Assert.DoesNotContain(r[0].Processes!, p => p.AnonPagesBySize.ContainsKey("64kB"));
        Assert.Contains(r[1].Processes!, p => p.AnonPagesBySize.GetValueOrDefault("64kB") > 0);
        Assert.True(r[1].Counters["sysfs/hugepages-64kB/stats/anon_fault_alloc"] > 0);
    }

    [Fact]
    public void A_signal_stops_the_sweep_and_what_did_not_finish_runs_next_time()
    {
        string dir = TempDir(), grid = SmallGrid(dir), results = Path.Combine(dir, "r.jsonl");
        var hooks = new MthpSim.Cli.Progress.LongCommandHooks(MthpSim.Cli.Progress.ProgressDisplay.None,
            () => JsonSchemaTests.Interrupting(System.Runtime.InteropServices.PosixSignal.SIGTERM));
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(143, MthpSim.Cli.Program.Run(["sweep", grid, "-o", results], o, e, hooks));
        Assert.Contains("interrupted: 12 of 12 cells not run; run the same command again to finish them", e.ToString());
        Assert.Empty(Read(results));
        Assert.Contains("ran 12, 0 done before", CliRunner.Run("sweep", grid, "-o", results).stdout);
    }

    [Fact]
    public void Bad_command_lines_are_refused_with_exit_2()
    {
        string dir = TempDir(), grid = SmallGrid(dir);
        Assert.Contains("--shard takes I/N", CliRunner.Run("sweep", grid, "--shard", "2").stderr);
        Assert.Contains("must be at least 0 and below the number of shards (4)", CliRunner.Run("sweep", grid, "--shard", "4/4").stderr);
        Assert.Equal(2, CliRunner.Run("sweep", grid, "--jobs", "-1").code);
        var missing = CliRunner.Run("sweep", Path.Combine(dir, "nope.grid"));
        Assert.Equal(2, missing.code);
        Assert.Contains("nope.grid: no such file", missing.stderr);
        var list = CliRunner.Run("sweep", grid, "--list", "--shard", "1/4");
        Assert.Equal("1 half.mthp policy=pmd-only khugepaged/max_ptes_none=255\n5 half.mthp policy=mthp khugepaged/max_ptes_none=511\n9 quarter.mthp policy=mthp khugepaged/max_ptes_none=0\n", list.stdout);
    }
}
