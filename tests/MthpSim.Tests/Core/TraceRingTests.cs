using MthpSim.Core.Khugepaged;

namespace MthpSim.Tests.Core;

public class TraceRingTests
{
    [Fact]
    public void A_full_ring_keeps_the_latest_events_oldest_first_and_counts_the_overwritten()
    {
        var ring = new TraceRing<int>(100);
        for (int i = 0; i < 250; i++) ring.Add(i);
        Assert.Equal(100, ring.Count);
        Assert.Equal(Enumerable.Range(150, 100), ring);
        Assert.Equal(150, ring[0]);
        Assert.Equal(249, ring[99]);
        Assert.Equal(150, ring.Overwritten);
    }

    [Fact]
    public void Shrinking_keeps_the_newest_and_zero_turns_tracing_off()
    {
        var ring = new TraceRing<int>(10);
        for (int i = 0; i < 8; i++) ring.Add(i);
        ring.Capacity = 3;
        Assert.Equal([5, 6, 7], ring);
        Assert.Equal(5, ring.Overwritten);
        ring.Capacity = 0;
        ring.Add(99);
        Assert.Empty(ring);
        Assert.Equal(9, ring.Overwritten);
    }

    [Fact]
    public void A_minute_of_khugepaged_every_millisecond_keeps_only_the_latest_events()
    {
        var k = new MthpSim.Core.Kernel(MthpSim.Core.Arch.MachineConfig.Default with { MemoryBytes = 1L << 30 });
        Assert.Equal(0, k.SysfsWrite("khugepaged/scan_sleep_millisecs", "1"));
        var p = k.CreateProcess("p");
        Assert.Equal(0x40000000L, k.Mmap(p, 0x40000000, 64 << 20, MthpSim.Core.Prot.Read | MthpSim.Core.Prot.Write));
        Assert.Equal(0, k.Madvise(p, 0x40000000, 64 << 20, MthpSim.Core.MadviseAdvice.Hugepage));
        Assert.Equal(0, k.Access(p, 0x40000000, 0x40000000 + (64 << 20), write: true));
        k.Sleep(60_000);
        Assert.Equal(MthpSim.Core.Kernel.DefaultTraceEvents, k.KhugepagedTrace.Count);
        Assert.True(k.KhugepagedTrace.Overwritten > 0);
    }
}
