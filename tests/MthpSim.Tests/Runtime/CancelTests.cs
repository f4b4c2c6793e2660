using MthpSim.Scenario.Fuzz;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Tests.Runtime;

/// <summary>A cancelled run stops between statements (a fuzz run between episodes) and says so.</summary>
public class CancelTests
{
    [Fact]
    public void A_run_cancelled_after_two_statements_stops_there_and_is_interrupted()
    {
        using var cancel = new CancellationTokenSource();
        var seen = new List<(int, int)>();
        var r = ScenarioRunner.RunText("t.mthp", "process p\np mmap a any 2M\np write a 0 4K\nexpect vmstat thp_fault_alloc == 1\n", new RunOptions
        {
            Cancel = cancel.Token,
            StatementDone = (done, total) => { seen.Add((done, total)); if (done == 2) cancel.Cancel(); },
        });
        Assert.True(r.Interrupted);
        Assert.False(r.Passed);
        Assert.Equal(2, r.StatementsRun);
        Assert.Equal(4, r.Statements);
        Assert.Empty(r.Expectations);   // the expect after the cut never ran
        Assert.Equal([(1, 4), (2, 4)], seen);
    }

    [Fact]
    public void A_run_not_cancelled_is_not_interrupted_and_counts_every_statement()
    {
        var r = ScenarioRunner.RunText("t.mthp", "process p\np mmap a any 2M\nexpect vmstat thp_fault_alloc == 0\n", new RunOptions());
        Assert.False(r.Interrupted);
        Assert.True(r.Passed);
        Assert.Equal(3, r.StatementsRun);
    }

    [Fact]
    public void A_fuzz_run_cancelled_after_its_first_episode_reports_the_episodes_it_finished()
    {
        using var cancel = new CancellationTokenSource();
        var report = Fuzzer.Run(1_000_000, seed: 7, opsPerEpisode: 50, jobs: 2, cancel: cancel.Token, progress: _ => cancel.Cancel());
        Assert.True(report.Interrupted);
        Assert.Null(report.Failure);
        Assert.Equal(1, report.Episodes);
        Assert.Equal(report.Tally.Ops, report.Ops);
        Assert.True(report.Ops is > 0 and <= 50, $"{report.Ops} operations");
    }
}
