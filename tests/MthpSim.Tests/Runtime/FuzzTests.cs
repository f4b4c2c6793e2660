using MthpSim.Scenario.Fuzz;

namespace MthpSim.Tests.Runtime;

public class FuzzTests
{
    /// <summary>CI's share of random testing: 100,000 operations with the invariant checker after each.</summary>
    [Fact]
    public void Hundred_thousand_random_operations_keep_every_invariant_and_all_content()
    {
        var report = Fuzzer.Run(100_000, seed: 20261121);
        Assert.True(report.Failure == null,
            report.Failure is { } f ? $"{f.Reason}\nshrunk scenario:\n{f.Scenario}" : "");
        Assert.Equal(100_000, report.Ops);
    }

    [Fact]
    public void Episodes_run_at_once_report_what_one_thread_reports()
    {
        var progressAlone = new List<long>();
        var progressAtOnce = new List<long>();
        var alone = Fuzzer.Run(3_200, seed: 7, opsPerEpisode: 300, progress: progressAlone.Add, jobs: 1);
        var atOnce = Fuzzer.Run(3_200, seed: 7, opsPerEpisode: 300, progress: progressAtOnce.Add, jobs: 3);
        Assert.Equal(alone, atOnce);
        Assert.Equal(11, atOnce.Episodes);
        // Progress comes in episode order, whichever episode finished first.
        Assert.Equal(progressAlone, progressAtOnce);
        Assert.Equal(Enumerable.Range(1, 11).Select(i => Math.Min(i * 300L, 3_200)), progressAtOnce);
    }

    [Fact]
    public void The_same_seed_generates_the_same_scenario()
    {
        var (a, _) = Fuzzer.RunEpisode(42, 300);
        var (b, _) = Fuzzer.RunEpisode(42, 300);
        Assert.Equal(a, b);
        var (c, _) = Fuzzer.RunEpisode(43, 300);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Shrinking_keeps_a_failure_and_drops_what_does_not_matter()
    {
        // A scenario that fails an expectation at its end, padded with unrelated statements.
        var lines = new List<string>
        {
            "machine memory=96M", "process p", "p mmap a 0x40000000 64K", "p mmap b 0x40100000 64K",
            "p write b 0 4K", "reclaim", "p write a 0 4K", "sysfs use_zero_page = 0", "expect p smaps a Rss == 8kB",
        };
        Assert.True(Fuzzer.Fails(lines, "expect failed"));
        var shrunk = Fuzzer.Shrink(lines, "expect failed");
        Assert.True(Fuzzer.Fails(shrunk, "expect failed"));
        Assert.DoesNotContain("reclaim", shrunk);
        Assert.DoesNotContain("p mmap b 0x40100000 64K", shrunk);
        Assert.True(shrunk.Count < lines.Count);
    }
}
