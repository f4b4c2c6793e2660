using MthpSim.Scenario.Runtime;
using Xunit;

namespace MthpSim.Tests.Syntax;

/// <summary>
/// A region name that still names a mapping cannot be mmapped again: the run stops there, as the
/// old mapping would be left without a name. A munmap of all of it frees the name, and so does an
/// mmap that failed (it named nothing). Whether either happened is known only when the run gets there.
/// </summary>
public class RegionRebindTests
{
    private const string Setup = "process p\np mmap buf any 4M\n"; // lines 1-2

    private static RunResult Run(string text) => ScenarioRunner.RunText("t.mthp", text, new RunOptions { CheckInvariants = true });

    private static void AssertStillNamed(string text, int line, int mappedAt, string process = "p")
    {
        var r = Run(text);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"t.mthp:{line}:1: error: region 'buf' of process '{process}' still names the mapping of line {mappedAt}; "
            + "munmap all of it first or use another name (a new mmap would leave it unreachable)", r.Aborted);
    }

    private static void RunsClean(string text)
    {
        var r = Run(text);
        Assert.Null(r.Aborted);
        Assert.Equal(0, r.ExitCode);
    }

    [Fact]
    public void A_second_mmap_of_a_bound_name_stops_the_run() =>
        AssertStillNamed(Setup + "p mmap buf any 2M\n", 3, 2);

    [Fact]
    public void A_partial_munmap_leaves_the_name_bound() =>
        AssertStillNamed(Setup + "p munmap buf 0 4K\np mmap buf any 2M\n", 4, 2);

    [Fact]
    public void Mremap_keeps_the_name_bound() =>
        AssertStillNamed(Setup + "p mremap buf any 8M\np mmap buf any 2M\n", 4, 2);

    [Fact]
    public void A_forked_child_inherits_the_bound_name() =>
        AssertStillNamed(Setup + "p fork c\nc mmap buf any 2M\n", 4, 2, "c");

    [Fact]
    public void A_forked_child_inherits_a_name_freed_by_the_parent() =>
        RunsClean(Setup + "p munmap buf\np fork c\nc mmap buf any 2M\nexpect rc > 0\n");

    [Fact]
    public void The_name_is_free_again_after_a_whole_munmap() =>
        RunsClean(Setup + "p munmap buf\np mmap buf any 2M\np write buf 0 4K\nexpect rc == 0\n");

    [Fact]
    public void A_munmap_with_offset_and_length_covering_the_region_frees_the_name() =>
        RunsClean(Setup + "p munmap buf 0 4M\nexpect rc == 0\np mmap buf any 2M\nexpect rc > 0\n");

    [Fact]
    public void A_failed_mmap_leaves_the_name_free() =>
        RunsClean("process p\np mmap a 0x40000000 4M\np mmap buf 0x40200000 4K\nexpect rc == -EEXIST\n"
            + "p mmap buf any 4K\nexpect rc > 0\np write buf 0 4K\nexpect rc == 0\nexpect p intact buf == 1\n");

    [Fact]
    public void Another_process_may_use_the_same_name() =>
        RunsClean(Setup + "process q\nq mmap buf any 2M\nexpect rc > 0\n");

    [Fact]
    public void The_rebound_name_is_refused_again_until_the_next_whole_munmap() =>
        AssertStillNamed(Setup + "p munmap buf\np mmap buf any 2M\np mmap buf any 4K\n", 5, 4);
}
