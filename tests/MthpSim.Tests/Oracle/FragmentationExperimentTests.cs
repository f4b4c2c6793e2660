using MthpSim.Oracle.Fragmentation;

namespace MthpSim.Tests.Oracle;

/// <summary>The simulator's half of `mthpsim oracle fragmentation`, on a small machine (the live half runs by hand).</summary>
public class FragmentationExperimentTests
{
    // 512M, 32M held by "the kernel", the fill leaves 64M; one page pinned in every 2M of the fill.
    static readonly MachineGeometry Small = new(MemTotal: 512L << 20, MemAvailable: 480L << 20, MemFree: 480L << 20);
    static readonly FragmentationExperiment Exp = new(PinShare: 1.0, FillHeadroom: 64L << 20, Measure: 64L << 20, Seed: 1);

    [Fact]
    public void One_pinned_page_per_2M_block_defeats_2M_faults_but_not_64K_even_with_compaction()
    {
        long fill = Small.Fill(Exp.FillHeadroom);
        var r = SimulatedFragmentation.Run(Exp, Small, fill);
        Assert.Null(r.Aborted);
        Assert.Equal(fill / FragmentationExperiment.PmdSize, r.Pinned);
        var never = r.Phases["2m-never"];
        // The only 2M blocks are the headroom's (64M, less what the fill's page tables took): every one is used.
        Assert.InRange(never.FreeBlocks ?? 0, 30, 32);
        Assert.Equal(never.FreeBlocks, never.Folios);
        // Compaction finds nothing to move in the pinned blocks: no more THPs, only stalls.
        Assert.Equal(never.Folios, r.Phases["2m-madvise"].Folios);
        Assert.True(r.Phases["2m-madvise"].CompactStall > 0);
        Assert.Equal(0, r.Phases["2m-madvise"].PgmigrateSuccess);
        Assert.Equal(never.Folios, r.Phases["2m-after-compact"].Folios);
        Assert.Equal(1.0, r.Phases["64k-never"].Fraction);
    }

    [Fact]
    public void The_fill_puts_one_pinned_page_in_each_physical_block()
    {
        var (text, _, pinned) = SimulatedFragmentation.Scenario(Exp, Small, Small.Fill(Exp.FillHeadroom));
        var r = SimulatedFragmentation.Run(Exp, Small, Small.Fill(Exp.FillHeadroom));
        // After the fill is freed but for the pins, every block of it has one free block of each order 0..8.
        var counts = r.Buddyinfo.Split(' ', StringSplitOptions.RemoveEmptyEntries)[4..].Select(long.Parse).ToArray();
        for (int o = 0; o <= 8; o++) Assert.True(counts[o] >= pinned, $"order {o}: {counts[o]} free blocks for {pinned} pinned pages\n{r.Buddyinfo}");
        Assert.Contains("age unmovable 32768K clustered", text);
    }

    [Fact]
    public void The_comparison_agrees_with_itself_and_its_json_matches_the_schema()
    {
        long fill = Small.Fill(Exp.FillHeadroom);
        var sim = SimulatedFragmentation.Run(Exp, Small, fill);
        // The simulator against a "live" side that saw the same counts: every phase and trend agrees.
        var live = new LiveFragmentation.Result { Geometry = Small, Fill = fill, KernelRelease = "test" };
        foreach (var (name, counts) in sim.Phases) live.Phases[name] = counts;
        var cmp = FragmentationComparison.Compare(Exp, live, sim);
        Assert.True(cmp.Agrees, cmp.Text());
        Assert.Equal(4, cmp.Phases.Count);
        MthpSim.Tests.Cli.JsonSchemaTests.AssertMatchesSchema("oracle-fragmentation", cmp.Json());
    }

    [Theory]
    [InlineData(-10)]   // the live machine had fewer free 2M blocks: the model holds 20M more
    [InlineData(8)]     // more: the model holds 16M less
    public void Matching_starts_the_model_with_the_live_machines_free_2M_blocks(int liveMinusSim)
    {
        long fill = Small.Fill(Exp.FillHeadroom);
        long simFree = SimulatedFragmentation.Run(Exp, Small, fill).Phases["2m-never"].FreeBlocks!.Value;
        var matched = SimulatedFragmentation.RunMatched(Exp, Small, fill, simFree + liveMinusSim);
        Assert.Null(matched.Aborted);
        Assert.Equal(simFree, matched.UnmatchedFreeBlocks);
        Assert.Equal(-liveMinusSim * FragmentationExperiment.PmdSize, matched.HeldAdjust);
        Assert.Equal(simFree + liveMinusSim, matched.Phases["2m-never"].FreeBlocks);
        // 2M faults take every free 2M block, up to the 32 the measured 64M asks for.
        Assert.Equal(Math.Min(simFree + liveMinusSim, Exp.Measure / FragmentationExperiment.PmdSize), matched.Phases["2m-never"].Folios);
        Assert.Contains($"age unmovable {(32 - 2 * liveMinusSim) << 10}K clustered", matched.Scenario);
        // The comparison says what was done, and the JSON carries it.
        var live = new LiveFragmentation.Result { Geometry = Small, Fill = fill, KernelRelease = "test" };
        foreach (var (name, counts) in matched.Phases) live.Phases[name] = counts;
        var cmp = FragmentationComparison.Compare(Exp, live, matched);
        Assert.Contains($"free 2M blocks matched: the model began the first phase with {simFree} free 2M blocks", cmp.Text());
        MthpSim.Tests.Cli.JsonSchemaTests.AssertMatchesSchema("oracle-fragmentation", cmp.Json());
    }

    [Fact]
    public void Kept_but_movable_pages_let_compaction_make_every_2M_fault_succeed()
    {
        var movable = Exp with { Movable = true };
        long fill = Small.Fill(movable.FillHeadroom);
        var (text, _, kept) = SimulatedFragmentation.Scenario(movable, Small, fill);
        Assert.DoesNotContain("q pin ", text);
        var r = SimulatedFragmentation.Run(movable, Small, fill);
        Assert.Null(r.Aborted);
        Assert.Equal(fill / FragmentationExperiment.PmdSize, kept);
        // The same fragmentation as pinned pages without compaction...
        var never = r.Phases["2m-never"];
        Assert.InRange(never.FreeBlocks ?? 0, 30, 32);
        Assert.Equal(never.FreeBlocks, never.Folios);
        // ...but compaction moves the one page out of a block: every 2M fault succeeds, before and after compact_memory.
        Assert.Equal(1.0, r.Phases["2m-madvise"].Fraction);
        Assert.True(r.Phases["2m-madvise"].PgmigrateSuccess > 0);
        Assert.Equal(1.0, r.Phases["2m-after-compact"].Fraction);
    }
}
