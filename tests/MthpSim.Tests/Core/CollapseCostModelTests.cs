using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Khugepaged;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>The collapse cost model: what it charges for, and that khugepaged's rounds take that time.</summary>
public class CollapseCostModelTests
{
    const ulong Base = 0x40000000, Pmd = 2UL << 20;

    /// <summary>A machine whose one process has written 2M of base pages and madvised it: khugepaged registered, due at once.</summary>
    static (Kernel K, MmStruct Mm) WrittenWindow(CollapseCostModel? cost = null)
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        if (cost != null) k.CollapseCost = cost;
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var mm = k.CreateProcess("p");
        Assert.Equal((long)Base, k.Mmap(mm, Base, Pmd, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(mm, Base, Base + Pmd, write: true));
        Assert.Equal(0, k.SysfsWrite("enabled", "madvise"));
        Assert.Equal(0, k.Madvise(mm, Base, Pmd, MadviseAdvice.Hugepage));
        return (k, mm);
    }

    [Fact]
    public void A_collapse_is_charged_its_scan_its_isolation_its_attempt_and_its_copies()
    {
        var (k, _) = WrittenWindow();
        Assert.Equal(0, k.KhugepagedFullScansRounds(1));
        var m = k.CollapseMetrics;
        Assert.Equal(1, m.Collapses[9]);
        Assert.Equal((512, 512, 1, 512, 0), (m.PtesExamined, m.IsolatePtes, m.CollapseAttempts, m.PagesCopied, m.PagesZeroed));
        var c = new CollapseCostModel(PteReadNs: 10, AttemptNs: 1000, PageCopyNs: 100, PageZeroNs: 50);
        Assert.Equal(1024 * 10 + 1000 + 512 * 100, c.CpuNs(m));
        Assert.Equal(512 * 10 + 512 * 100, c.LockHoldNs(m));
    }

    [Fact]
    public void Zero_filled_pages_are_charged_as_zeroed_not_copied()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var mm = k.CreateProcess("p");
        k.Mmap(mm, Base, Pmd, Prot.Read | Prot.Write);
        Assert.Equal(0, k.Access(mm, Base, Base + 4096 * 100, write: true));
        Assert.Equal(0, k.Madvise(mm, Base, Pmd, MadviseAdvice.Collapse));
        Assert.Equal((100, 412), (k.CollapseMetrics.PagesCopied, k.CollapseMetrics.PagesZeroed));
    }

    [Fact]
    public void Khugepaged_sleeps_after_its_rounds_CPU_time_not_from_their_start()
    {
        // The round at t=0 collapses the window and completes a pass; the next round (the second
        // pass) comes 10 s later with the default model (well under 1 ms of work), 13 s later when
        // an attempt costs 3 s.
        var (fast, _) = WrittenWindow();
        fast.Sleep(12_000);
        Assert.Equal(2, fast.KhugepagedFullScans);
        var (slow, _) = WrittenWindow(CollapseCostModel.Default with { AttemptNs = 3e9 });
        slow.Sleep(12_000);
        Assert.Equal(1, slow.KhugepagedFullScans);
        slow.Sleep(1_000);
        Assert.Equal(2, slow.KhugepagedFullScans);
    }

    [Fact]
    public void Memory_is_sampled_at_each_full_scan_and_thinned_past_the_cap()
    {
        var m = new CollapseMetrics(9);
        for (int scan = 1; scan <= 3 * CollapseMetrics.MaxSamples; scan++) m.SampleFullScan(scan, scan * 10, scan);
        Assert.InRange(m.Samples.Count, CollapseMetrics.MaxSamples / 2, CollapseMetrics.MaxSamples);
        var scans = m.Samples.Select(s => s.FullScan).ToList();
        Assert.Equal(scans.Order(), scans);
        long step = scans[1] - scans[0];
        Assert.All(scans.Zip(scans.Skip(1)), p => Assert.Equal(step, p.Second - p.First));   // evenly spaced
        Assert.Equal(3 * CollapseMetrics.MaxSamples, scans[^1]);
    }
}
