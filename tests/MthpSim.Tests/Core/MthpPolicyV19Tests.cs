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
}
