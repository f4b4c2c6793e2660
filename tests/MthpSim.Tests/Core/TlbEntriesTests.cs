using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>TLB reach: entries for the present mappings, and what a TLB of N entries covers.</summary>
public class TlbEntriesTests
{
    [Fact]
    public void Reach_takes_the_largest_mappings_first_and_stops_at_what_is_mapped()
    {
        var t = new TlbEntries(BasePages: 10, PmdMappings: 3, BasePageBytes: 4096, PmdBytes: 2 << 20);
        Assert.Equal(13, t.Total);
        Assert.Equal(3L * (2 << 20) + 10 * 4096, t.MappedBytes);
        Assert.Equal(2L * (2 << 20), t.ReachBytes(2));
        Assert.Equal(3L * (2 << 20) + 4 * 4096, t.ReachBytes(7));
        Assert.Equal(t.MappedBytes, t.ReachBytes(1000));
    }

    [Fact]
    public void Swap_entries_and_empty_ptes_need_no_entry()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20, SwapBytes = 64L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var mm = k.CreateProcess("p");
        const ulong a = 0x40000000;
        k.Mmap(mm, a, 1 << 20, Prot.Read | Prot.Write);
        Assert.Equal(0, k.Access(mm, a, a + (64 << 10), write: true));
        Assert.Equal(16, k.TlbEntriesOf(mm).Total);
        Assert.Equal(0, k.Madvise(mm, a, 32 << 10, MadviseAdvice.Pageout));
        Assert.Equal(8, k.TlbEntriesOf(mm).Total);
    }

    [Fact]
    public void Arm64_is_refused_until_the_contiguous_bit_is_modelled()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20, Arch = CpuArch.Arm64 });
        var e = Assert.Throws<NotSupportedException>(() => k.TlbEntriesOf(k.CreateProcess("p")));
        Assert.Contains("contiguous bit", e.Message);
    }
}
