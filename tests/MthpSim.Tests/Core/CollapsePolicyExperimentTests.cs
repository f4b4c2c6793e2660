using MthpSim.Scenario.Runtime;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Core;

/// <summary>
/// The seed thread's experiments (scenarios/policies/), run under each collapse design, with the
/// outcome and scan cost the thread claims or its reasoning implies (worked out per design in
/// docs/collapse-policies.md).
/// </summary>
public class CollapsePolicyExperimentTests
{
    static RunResult Run(string scenario, string policy)
    {
        var r = ScenarioRunner.RunFile(Path.Combine(RepoPaths.Root, "scenarios/policies", scenario), new RunOptions { Policy = policy, CheckInvariants = true });
        Assert.True(r.Passed, string.Join("\n", r.Invalid) + r.Aborted + string.Join("\n", r.Failures.Select(f => f.Describe())));
        return r;
    }

    static long MappedKb(RunResult r, int order) => r.MappedBytesByOrder[order] >> 10;

    [Theory]
    [InlineData("pmd-only")]
    [InlineData("mthp")]
    [InlineData("mthp-bitmap-rfc")]
    [InlineData("mthp-per-order-rfc")]
    public void Dev_Jain_run_A_collapses_every_window_to_a_PMD_under_every_design(string policy)
    {
        var r = Run("dev-jain-run-a.mthp", policy);
        Assert.Equal(32 * 1024, MappedKb(r, 9));
        Assert.Equal(16, r.CollapseMetrics!.Collapses[9]);
    }

    [Theory]
    [InlineData("pmd-only", 0)]
    [InlineData("mthp-bitmap-rfc", 0)]          // khugepaged does not run without the PMD size
    [InlineData("mthp-per-order-rfc", 32768)]   // Dev's claim: 32 MiB of 64K folios
    [InlineData("mthp", 32768)]
    public void Dev_Jain_run_B_64K_only(string policy, long kbOf64K)
    {
        var r = Run("dev-jain-run-b.mthp", policy);
        Assert.Equal(kbOf64K, MappedKb(r, 4));
    }

    [Fact]
    public void Dev_Jain_run_B_v19_reattempts_collapsed_ranges_while_per_order_skips_them()
    {
        var perOrder = Run("dev-jain-run-b.mthp", "mthp-per-order-rfc").CollapseMetrics!;
        var mthp = Run("dev-jain-run-b.mthp", "mthp").CollapseMetrics!;
        Assert.Equal(512, perOrder.CollapseAttempts);                          // only the first pass
        Assert.True(mthp.CollapseAttempts > perOrder.CollapseAttempts);         // every pass allocates, then SCAN_PTE_MAPPED_HUGEPAGE
        Assert.Equal(512.0, (double)mthp.PtesExamined / mthp.PmdWindows);
    }

    [Theory]
    [InlineData("mthp-bitmap-rfc", 9, 2048)]     // 64K first, then the PMD on the next scan: creep
    [InlineData("mthp-per-order-rfc", -1, 0)]    // 64K needs 16 - (255 >> 5) = 9 present of 16: nothing
    [InlineData("mthp", -1, 0)]                  // 255 acts as 0 below the PMD size: nothing
    public void Nico_Pache_half_filled_64K_with_max_ptes_none_255(string policy, int finalOrder, long kbAtFinal)
    {
        var r = Run("nico-pache-8-of-16.mthp", policy);
        if (finalOrder < 0) Assert.Equal(16384, MappedKb(r, 0));
        else Assert.Equal(kbAtFinal * 16, MappedKb(r, finalOrder));
        if (policy == "mthp-bitmap-rfc") Assert.True(r.CollapseMetrics!.CreepEvents > 0);
    }

    [Theory]
    [InlineData("mthp-per-order-rfc")]
    [InlineData("mthp")]
    public void Nico_Pache_with_32K_enabled_collapses_only_32K(string policy)
    {
        var r = Run("nico-pache-8-of-16-with-32k.mthp", policy);
        Assert.Equal(16384, MappedKb(r, 3));   // "it should only do 32k"
        Assert.Equal(0, r.CollapseMetrics!.BloatBytes);
    }

    [Theory]
    [InlineData("mthp-bitmap-rfc", 0)]       // order 2 is below its 8-page chunks (and the PMD size is off)
    [InlineData("mthp-per-order-rfc", 1024)]
    [InlineData("mthp", 1024)]
    public void Ryan_Roberts_every_other_16K_block(string policy, long kbOf16K)
    {
        var r = Run("ryan-roberts-4-of-8.mthp", policy);
        Assert.Equal(kbOf16K, MappedKb(r, 2));
    }

    [Theory]
    [InlineData("mthp-bitmap-rfc", 3)]      // 128K, 512K, 2M
    [InlineData("mthp-per-order-rfc", 4)]   // 64K, 256K, 1M, 2M
    [InlineData("mthp", 1)]                 // stays 16K
    public void Creep_with_max_ptes_none_above_half_a_PMD(string policy, int chain)
    {
        var r = Run("creep-384.mthp", policy);
        Assert.Equal(chain, r.CollapseMetrics!.LongestCreepChain);
        if (policy == "mthp") Assert.Equal(16, MappedKb(r, 2));
        else Assert.Equal(2048, MappedKb(r, 9));
    }

    [Theory]
    [InlineData("pmd-only", 512)]
    [InlineData("mthp", 512)]
    [InlineData("mthp-bitmap-rfc", 512)]
    [InlineData("mthp-per-order-rfc", 4096)]   // "512 * 8 = 4096" with all eight orders enabled
    public void Scan_cost_per_PMD_window(string policy, long ptes)
    {
        var m = Run("scan-cost-no-young.mthp", policy).CollapseMetrics!;
        Assert.Equal(1, m.PmdWindows);
        Assert.Equal(ptes, m.PtesExamined);
    }
}
