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
    public void Reach_takes_contiguous_blocks_after_pmds_and_before_base_pages()
    {
        var t = new TlbEntries(BasePages: 10, PmdMappings: 1, BasePageBytes: 4096, PmdBytes: 2 << 20, ContBlocks: 4, ContBytes: 64 << 10);
        Assert.Equal(15, t.Total);
        Assert.Equal((2L << 20) + 4 * (64 << 10) + 10 * 4096, t.MappedBytes);
        Assert.Equal((2L << 20) + 2 * (64 << 10), t.ReachBytes(3));
        Assert.Equal((2L << 20) + 4 * (64 << 10) + 4096, t.ReachBytes(6));
    }

    [Theory]
    [InlineData(4096, "hugepages-64kB", 16)]      // 16 PTEs of 4K: one 64K entry
    [InlineData(16384, "hugepages-2048kB", 128)]  // 128 PTEs of 16K: one 2M entry
    [InlineData(65536, "hugepages-2048kB", 32)]   // 32 PTEs of 64K: one 2M entry
    public void On_arm64_a_folded_block_needs_one_entry(int pageSize, string size, int contPtes)
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 1L << 30, Arch = CpuArch.Arm64, PageSize = pageSize });
        Assert.Equal(contPtes, k.Geo.ContPtes);
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        Assert.Equal(0, k.SysfsWrite($"{size}/enabled", "always"));
        var mm = k.CreateProcess("p");
        ulong block = (ulong)(contPtes * pageSize);
        ulong a = 4 * (ulong)k.Geo.PmdSize;
        k.Mmap(mm, a, 4 * block, Prot.Read | Prot.Write);
        Assert.Equal(0, k.Access(mm, a, a + 4 * block, write: true));
        Assert.Equal(4, k.TlbEntriesOf(mm).ContBlocks);
        Assert.Equal(4, k.TlbEntriesOf(mm).Total);
        Assert.Equal((long)(4 * block) >> 10, k.ContPteKb(mm, a, a + 4 * block));
        // a page of the second block given back: that block's other pages need an entry each
        Assert.Equal(0, k.Madvise(mm, a + block, (ulong)pageSize, MadviseAdvice.Dontneed));
        Assert.Equal(3 + contPtes - 1, k.TlbEntriesOf(mm).Total);
        Assert.Equal((long)(3 * block) >> 10, k.ContPteKb(mm, a, a + 4 * block));
    }
}
