using Xunit;
using static MthpSim.Tests.Syntax.SyntaxTestHelpers;

namespace MthpSim.Tests.Syntax;

/// <summary>A region name still bound to a mapping cannot be mmapped again; a whole munmap frees it.</summary>
public class RegionRebindTests
{
    private const string Setup = "process p\np mmap buf any 4M\n"; // lines 1-2

    private static void AssertAlreadyMapped(string text, int line, int column, int mappedAt, string process = "p")
    {
        var e = OneError(text);
        Assert.Equal((line, column, $"region 'buf' of process '{process}' is already mapped (line {mappedAt}); munmap it first or use another name"),
            (e.Line, e.Column, e.Message));
    }

    [Fact]
    public void A_second_mmap_of_a_bound_name_is_refused_at_the_name() =>
        AssertAlreadyMapped(Setup + "p mmap buf any 2M\n", 3, 8, 2);

    [Fact]
    public void A_partial_munmap_leaves_the_name_bound() =>
        AssertAlreadyMapped(Setup + "p munmap buf 0 4K\np mmap buf any 2M\n", 4, 8, 2);

    [Fact]
    public void Mremap_keeps_the_name_bound() =>
        AssertAlreadyMapped(Setup + "p mremap buf any 8M\np mmap buf any 2M\n", 4, 8, 2);

    [Fact]
    public void A_forked_child_inherits_the_bound_name() =>
        AssertAlreadyMapped(Setup + "p fork c\nc mmap buf any 2M\n", 4, 8, 2, "c");

    [Fact]
    public void A_forked_child_inherits_a_name_freed_by_the_parent() =>
        Ok(Setup + "p munmap buf\np fork c\nc mmap buf any 2M\n");

    [Fact]
    public void The_name_is_free_again_after_a_whole_munmap() =>
        Ok(Setup + "p munmap buf\np mmap buf any 2M\np write buf 0 4K\n");

    [Fact]
    public void Another_process_may_use_the_same_name() =>
        Ok(Setup + "process q\nq mmap buf any 2M\n");

    [Fact]
    public void The_rebound_name_is_refused_again_until_the_next_whole_munmap() =>
        AssertAlreadyMapped(Setup + "p munmap buf\np mmap buf any 2M\np mmap buf any 4K\n", 5, 8, 4);
}
