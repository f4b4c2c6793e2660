using MthpSim.Scenario.Runtime;

namespace MthpSim.Tests.Core;

/// <summary>The `mthp` design against the v19 posting, where the window's trace and the kernel log show it.</summary>
public class MthpPolicyV19Tests
{
    /// <summary>A window already made of 64K folios, only 64K enabled, max_ptes_none 100 (not 0 or 511).</summary>
    const string WindowOf64KFolios = """
        policy collapse = mthp
        sysfs enabled = never
        sysfs hugepages-64kB/enabled = always
        sysfs khugepaged/max_ptes_none = 100
        process p
        p mmap buf 0x40000000 2M
        p write buf 0 2M
        p madvise buf 0 2M hugepage
        khugepaged full-scans 1
        expect p folio buf 0 order == 4
        print khugepaged trace
        """;

    static (RunResult Result, string Output) Run(string text)
    {
        var output = new StringWriter();
        var r = ScenarioRunner.RunText("v19.mthp", text, new RunOptions { CheckInvariants = true, Output = output });
        Assert.True(r.Passed, string.Join("\n", r.Failures.Select(f => f.Describe())) + r.Aborted + string.Join("\n", r.Invalid));
        return (r, output.ToString());
    }

    [Fact]
    public void A_window_whose_ranges_all_hold_folios_of_the_order_ends_as_scan_fail()
    {
        // Every 64K range is skipped (SCAN_PTE_MAPPED_HUGEPAGE), which v19 never stores in
        // last_result: the window's result is the initial SCAN_FAIL.
        var (_, output) = Run(WindowOf64KFolios);
        var scan = output.Split('\n').Single(l => l.Contains("mm_khugepaged_scan_pmd:"));
        Assert.Contains("status=failed,", scan);
        Assert.Equal(32, output.Split('\n').Count(l => l.Contains("mm_collapse_huge_page:") && l.Contains("status=pte_mapped_hugepage")));
    }

    [Fact]
    public void The_max_ptes_none_warning_reads_as_posted()
    {
        var (_, output) = Run(WindowOf64KFolios);
        Assert.Contains("kernel: khugepaged: mTHP collapse does not support max_ptes_none values other than 0 or 511, defaulting to 0.\n", output.Replace("\r", ""));
    }

    [Fact]
    public void The_collapse_tracepoints_print_the_order_as_posted()
    {
        // v17-v19 "improve tracepoints for mTHP orders": mm_collapse_huge_page, _isolate and _swapin end with ", order=%u".
        var (_, output) = Run(WindowOf64KFolios);
        var collapses = output.Split('\n').Where(l => l.Contains("mm_collapse_huge_page:")).ToList();
        Assert.Equal(32, collapses.Count);
        Assert.All(collapses, l => Assert.EndsWith(", status=pte_mapped_hugepage, order=4", l));
        var isolates = output.Split('\n').Where(l => l.Contains("mm_collapse_huge_page_isolate:")).ToList();
        Assert.Equal(32, isolates.Count);
        Assert.All(isolates, l => Assert.Matches(@"scan_pfn=0x[0-9a-f]+, none_or_zero=0, referenced=\d+, status=pte_mapped_hugepage, order=4$", l));
    }

    [Fact]
    public void Linux_6_18_traces_isolation_and_swap_in_without_an_order()
    {
        var output = new StringWriter();
        var r = ScenarioRunner.RunText("swapin.mthp", """
            machine swap=64M
            sysfs enabled = never
            process p
            p mmap buf 0x40000000 2M
            p write buf 0 2M
            p madvise buf 4K 4K pageout
            sysfs enabled = madvise
            p madvise buf 0 2M hugepage
            khugepaged full-scans 1
            expect p folio buf 0 order == 9
            print khugepaged trace
            """, new RunOptions { CheckInvariants = true, Output = output });
        Assert.True(r.Passed, string.Join("\n", r.Failures.Select(f => f.Describe())) + r.Aborted);
        var events = output.ToString().Split('\n').Where(l => l.Contains(": mm_")).Select(l => l[(l.IndexOf(": mm_", StringComparison.Ordinal) + 2)..]).ToList();
        Assert.Equal("mm_collapse_huge_page_swapin: mm=00000000a6ead519, swapped_in=1, referenced=511, ret=1", events[0]);
        Assert.Matches(@"^mm_collapse_huge_page_isolate: scan_pfn=0x[0-9a-f]+, none_or_zero=0, referenced=512, status=succeeded$", events[1]);
        Assert.Equal("mm_collapse_huge_page: mm=00000000a6ead519, isolated=1, status=succeeded", events[2]);
        Assert.StartsWith("mm_khugepaged_scan_pmd: ", events[3]);
    }
}
