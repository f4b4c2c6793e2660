using MthpSim.Oracle.Compare;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Oracle;

/// <summary>Oracle behaviour that needs no live kernel: replaying a record, and refusing what a live kernel cannot run.</summary>
public class OracleOfflineTests
{
    const string Scenario = """
        sysfs hugepages-64kB/enabled = always
        sysfs enabled = never
        process p
        p mmap a 0x40000000 2M
        p write a 0 4K
        expect p folio a 0 order == 4
        expect sysfs hugepages-64kB/stats/anon_fault_alloc == 1
        """;

    static OracleReport.Record RecordWith(string secondObserved, bool secondPassed) => new(
        "s.mthp", "6.18.44",
        [new(6, "p folio a 0 order", "4", true), new(7, "sysfs hugepages-64kB/stats/anon_fault_alloc", secondObserved, secondPassed)],
        new Dictionary<string, long> { ["sysfs/hugepages-64kB/stats/anon_fault_alloc"] = 1 });

    [Fact]
    public void Replay_agrees_with_a_matching_record()
    {
        var r = OracleRunner.Replay("s.mthp", Scenario, RecordWith("1", true));
        Assert.Equal(0, r.ExitCode);
        Assert.All(r.Expectations, e => Assert.True(e.Agrees));
    }

    [Fact]
    public void Replay_reports_a_live_value_that_differs()
    {
        var r = OracleRunner.Replay("s.mthp", Scenario, RecordWith("3", false));
        Assert.Equal(1, r.ExitCode);
        var e = Assert.Single(r.Expectations, x => !x.Agrees);
        Assert.Equal("3", e.Live.Observed);
        Assert.Contains("FAIL (live)", OracleReport.Text(r));
    }

    [Fact]
    public void Records_round_trip_through_json()
    {
        var json = OracleReport.ToJson([RecordWith("1", true)]);
        var back = Assert.Single(OracleReport.FromJson(json));
        Assert.Equal("6.18.44", back.Kernel);
        Assert.Equal(2, back.Expectations.Count);
        Assert.Equal(1, back.Counters["sysfs/hugepages-64kB/stats/anon_fault_alloc"]);
    }

    [Theory]
    [InlineData("tests/scenarios/fault/arm64-geometry.mthp", "needs 64K pages")]
    [InlineData("tests/scenarios/fault/allocation-fallback.mthp", "memory=4M")]
    [InlineData("tests/scenarios/collapse-policies/mthp-64k-without-pmd.mthp", "'mthp' exists only in the simulator")]
    public void A_scenario_the_live_kernel_cannot_run_exits_3_with_a_reason(string file, string reason)
    {
        var o = new StringWriter();
        var err = new StringWriter();
        int code = MthpSim.Cli.Program.Run(["oracle", Path.Combine(RepoPaths.Root, file)], o, err);
        Assert.Equal(3, code);
        Assert.Contains(reason, err.ToString());
        Assert.Single(err.ToString().Trim().Split('\n'));
    }
}
