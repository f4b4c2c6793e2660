using MthpSim.Bench;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Bench;

public class BenchSuiteTests
{
    [Fact]
    public void Every_anonymous_size_of_x86_has_a_write_and_a_read_pattern()
    {
        var names = BenchSuite.Create(BenchScale.Full, null).Select(p => p.Name).ToHashSet();
        foreach (var size in new[] { "4K", "16K", "32K", "64K", "128K", "256K", "512K", "1M", "2M" })
        {
            Assert.Contains($"write-{size}", names);
            Assert.Contains($"read-{size}", names);
        }
        Assert.Contains("fork-1G-4K", names);
        Assert.Contains("munmap-1G-2M", names);
        Assert.Contains("vma-mmap-100k", names);
    }

    [Fact]
    public void Size_settings_enable_exactly_one_size()
    {
        var s64 = BenchMachine.SizeSettings(4);
        Assert.Equal("never", s64["enabled"]);
        Assert.Equal("always", s64["hugepages-64kB/enabled"]);
        Assert.Equal("never", s64["hugepages-2048kB/enabled"]);
        var s2m = BenchMachine.SizeSettings(9);
        Assert.Equal("always", s2m["enabled"]);
        Assert.Equal("inherit", s2m["hugepages-2048kB/enabled"]);
        Assert.Equal("never", s2m["hugepages-64kB/enabled"]);
        Assert.All(BenchMachine.SizeSettings(0), kv => Assert.Equal("never", kv.Value));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(9)]
    public void A_write_under_size_settings_faults_folios_of_that_size(int order)
    {
        var k = BenchMachine.Create(BenchMachine.SizeSettings(order));
        var mm = k.CreateProcess("p");
        ulong a = BenchMachine.MapRegion(k, mm, 4L << 20);
        BenchMachine.Touch(k, mm, a, 4L << 20, write: true);
        Assert.Equal(order, k.FolioOrderAt(mm, a + 0x1000));
    }

    [Fact]
    public void Every_live_pattern_sets_only_files_the_simulator_has()
    {
        var k = BenchMachine.Create();
        var files = k.SysfsFiles(includeStats: false).ToHashSet();
        foreach (var p in BenchSuite.Create(BenchScale.Quick, Path.Combine(RepoPaths.Root, "scenarios")).Where(p => p.Live != null))
            Assert.All(p.Live!.Settings.Keys, f => Assert.Contains(f, files));
    }

    [Fact]
    public void Targets_judge_their_own_figure()
    {
        var r = new PatternResult("x", "write", "page", 10, 1, SimNsPerUnit: 4, AllocBytesPerUnit: 0, ResidentPages: 1000,
            HostBytesPerPage: 30, KernelUnits: 10, KernelNsPerUnit: 200, Ratio: 50);
        Assert.True(BenchTarget.KernelRatio.Passes(BenchTarget.KernelRatio.ValueOf(r)!.Value));
        Assert.True(BenchTarget.KhugepagedPtesPerSecond.Passes(BenchTarget.KhugepagedPtesPerSecond.ValueOf(r)!.Value));   // 250M/s
        Assert.False(BenchTarget.HostBytesPerPage.Passes(BenchTarget.HostBytesPerPage.ValueOf(r)!.Value));
        Assert.Equal(2.5, BenchRunner.Median([1, 4, 2, 3]));
    }

    [Fact]
    public void Each_pattern_runs_its_warm_up_and_measured_runs_one_after_another()
    {
        // What ran just before moves a figure, so a pattern is measured after itself (as alone), never after another.
        var order = new List<string>();
        BenchPattern Pattern(string name) => new()
        {
            Name = name, Family = "test", Unit = "op",
            Prepare = () => { order.Add(name); return new PreparedRun(null, () => 1); },
        };
        var steps = new List<(int Done, string Name)>();
        var report = BenchRunner.Run([Pattern("a"), Pattern("b")], BenchScale.Quick, runs: 2, live: null, measured: (done, name) => steps.Add((done, name)));
        Assert.Equal(["a", "a", "a", "b", "b", "b"], order);
        Assert.Equal(BenchRunner.Steps(2, 2), steps.Count);
        Assert.Equal([1, 2, 3, 4, 5, 6], steps.Select(s => s.Done));
        Assert.All(report.Patterns, r => Assert.Equal(2, r.Runs));
    }
}
