using MthpSim.Scenario.Runtime;

namespace MthpSim.Tests.Runtime;

public class RunnerTests
{
    static RunResult Run(string text) => ScenarioRunner.RunText("t.mthp", text, new RunOptions { CheckInvariants = true });

    [Fact]
    public void Every_failing_expectation_is_reported_with_line_observed_and_expected()
    {
        var r = Run("""
            process p
            p mmap a 0x40000000 2M
            p write a 0 4K
            expect p smaps a Rss == 4kB
            expect p smaps a Rss == 8kB
            expect vmstat thp_fault_alloc == 7
            """);
        Assert.Equal(1, r.ExitCode);
        // Default settings: enabled=always, so the first write maps a PMD THP.
        var failures = r.Failures.ToList();
        Assert.Equal(3, failures.Count);
        Assert.Equal(4, failures[0].Span.Line);
        Assert.Equal("2048 kB", failures[0].Observed);
        Assert.Equal("4 kB", failures[0].Expected);
        Assert.Contains("t.mthp:6: expect failed: expect vmstat thp_fault_alloc == 7", failures[2].Describe());
        Assert.Contains("observed: 1", failures[2].Describe());
    }

    [Fact]
    public void Size_suffixes_compare_in_kB_for_kB_valued_observables()
    {
        var r = Run("""
            process p
            p mmap a 0x40000000 2M
            p write a 0 4K
            expect p smaps a Rss == 2M
            expect p smaps a Rss == 2048kB
            expect p smaps a Rss == 2048
            expect rc == 0
            """);
        Assert.True(r.Passed, string.Join("\n", r.Failures.Select(f => f.Describe())));
    }

    [Theory]
    [InlineData("policy collapse = mthp-rfc\n", "unknown collapse policy 'mthp-rfc' (known: pmd-only, mthp")]
    [InlineData("machine swap=8K\n", "swap=8K must be from 40K to ")]
    [InlineData("machine swapdev=ssd\n", "swapdev must be zram, disk or file, got 'ssd'")]
    [InlineData("expect vmstat thp_fault_aloc == 0\n", "unknown vmstat counter 'thp_fault_aloc' (did you mean 'thp_fault_alloc'?)")]
    [InlineData("expect sysfs hugepages-64kB/enable == always\n", "no such file")]
    [InlineData("process p\np mmap a any 2M\nexpect p smaps a RSS == 0\n", "unknown smaps field 'RSS'")]
    [InlineData("process p\np mmap a any 2M\nexpect p thpmaps a anon-thp-pte-aligned-8kB == 0\n", "unknown thpmaps key")]
    [InlineData("expect rc == always\n", "cannot be compared with the word")]
    [InlineData("expect vmstat pgactivate == 0\n", "vmstat 'pgactivate' needs a swap device: the model keeps the LRU lists only where reclaim can swap")]
    public void Unsupported_or_unknown_things_are_refused_before_running(string text, string message)
    {
        var r = Run(text);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(r.Invalid, d => d.Message.Contains(message, StringComparison.Ordinal));
        Assert.Empty(r.Expectations);
    }

    /// <summary>What the model does not have yet stops the run where it is reached, with the reason, never with a wrong result.</summary>
    [Theory]
    [InlineData("process p\np mmap a 0x40000000 2M\np uffd register a 0 2M missing handler=none\np madvise a 0 64K populate_write\n",
        "t.mthp:4:", "a populate or pin that faults on a userfaultfd range nobody resolves (handler=none, at 0x40000000) would wait forever; not modelled")]
    public void Paths_not_modelled_yet_stop_the_run_with_the_reason(string text, string where, string message)
    {
        var r = Run(text);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(where, r.Aborted);
        Assert.Contains(message, r.Aborted);
    }

    [Fact]
    public void A_failed_mmap_faults_an_access_and_makes_other_uses_of_the_region_an_error_with_its_location()
    {
        // A store through MAP_FAILED is a SIGSEGV: -EFAULT. A munmap of it has no address to give.
        var r = Run("""
            process p
            p mmap a 0x40000000 2M
            p mmap b 0x40000000 2M
            expect rc == -EEXIST
            p write b 0 4K
            expect rc == -EFAULT
            p munmap b
            """);
        Assert.Equal(1, r.ExitCode);
        Assert.True(r.Expectations.All(e => e.Passed));
        Assert.Contains("t.mthp:7:", r.Aborted);
        Assert.Contains("its mmap returned EEXIST", r.Aborted);
    }

    [Fact]
    public void An_observable_of_a_child_whose_fork_never_happened_is_an_error_with_its_location()
    {
        // The parent is OOM-killed at its cgroup's limit, so its fork is -ESRCH and 'c' has no regions.
        var r = Run("""
            sysfs enabled = never
            process p
            cgroup cg limit=1M
            p cgroup cg
            p mmap buf any 2M
            p write buf 0 2M
            p fork c
            expect rc == -ESRCH
            expect c folio buf 0 kind == anon
            """);
        Assert.Equal(1, r.ExitCode);
        Assert.True(r.Expectations.All(e => e.Passed));
        Assert.Contains("t.mthp:9:", r.Aborted);
        Assert.Contains("process 'c' has no region 'buf': the fork that made it failed or never happened", r.Aborted);
    }

    [Fact]
    public void Access_without_mapping_or_permission_is_efault()
    {
        var r = Run("""
            process p
            p mmap a 0x40000000 64K r
            p read a 0 64K
            expect rc == 0
            p write a 0 4K
            expect rc == -EFAULT
            p read a 60K 8K
            expect rc == -EFAULT
            expect p smaps a Rss == 0
            """);
        Assert.True(r.Passed, string.Join("\n", r.Failures.Select(f => f.Describe())) + r.Aborted);
    }

    [Fact]
    public void Same_scenario_gives_byte_identical_counters()
    {
        string text = File.ReadAllText(Path.Combine(Scenarios.RepoPaths.Root, "tests/scenarios/fault/mthp-several-sizes.mthp"));
        var a = ScenarioRunner.RunText("x", text, new RunOptions());
        var b = ScenarioRunner.RunText("x", text, new RunOptions());
        Assert.Equal(a.Counters, b.Counters);
        Assert.Equal(a.Expectations.Select(e => e.Observed), b.Expectations.Select(e => e.Observed));
    }
}
