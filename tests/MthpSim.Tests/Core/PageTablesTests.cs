using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>The radix tree of PMD slots against a plain map of the same operations.</summary>
public class PageTablesTests
{
    [Fact]
    public void Lookups_and_walks_agree_with_a_sorted_map()
    {
        var pt = new PageTables(9, pudLevel: true);
        var model = new SortedDictionary<long, PmdSlot>();
        var rng = new Random(5);
        // indexes spread over several top-level entries (one per 2^18 PMDs) and many leaves
        long[] pool = Enumerable.Range(0, 400).Select(_ => (long)rng.Next(0, 1 << 22)).Concat([0, 511, 512, (1 << 18) - 1, 1 << 18]).ToArray();
        foreach (long pmdPage in pool.Select(i => i >> 9).Distinct()) pt.AddPmdPage(pmdPage << 9, (int)pmdPage);
        for (int step = 0; step < 5000; step++)
        {
            long i = pool[rng.Next(pool.Length)];
            if (rng.Next(3) == 0) { pt.Remove(i); model.Remove(i); }
            else
            {
                var s = pt.GetOrCreate(i);
                if (model.TryGetValue(i, out var had)) Assert.Same(had, s); else model[i] = s;
            }
            long probe = pool[rng.Next(pool.Length)];
            Assert.Same(model.GetValueOrDefault(probe), pt.Find(probe));
        }
        Assert.Equal(model.Count, pt.Count);
        Assert.Equal(model.Select(kv => (kv.Key, kv.Value)), pt.Ordered());
    }

    [Fact]
    public void A_walk_that_sees_a_slot_added_under_it_throws()
    {
        var pt = new PageTables(9, pudLevel: true);
        foreach (long first in new long[] { 0, 512, 4608 }) pt.AddPmdPage(first, (int)first);
        pt.GetOrCreate(3);
        pt.GetOrCreate(700);
        Assert.Throws<InvalidOperationException>(() => { foreach (var _ in pt.Ordered()) pt.GetOrCreate(5000); });
    }

    [Fact]
    public void A_slot_needs_the_pmd_page_above_it_and_the_pages_are_kept_by_range()
    {
        var pt = new PageTables(9, pudLevel: true);
        Assert.Throws<InvalidOperationException>(() => pt.GetOrCreate(1000));
        pt.AddPudPage(1000, 7);
        pt.AddPmdPage(1000, 8);
        // one PMD page serves PMD indexes 512-1023, one PUD page 0-262143
        Assert.True(pt.HasPmdPage(512) && pt.HasPmdPage(1023) && !pt.HasPmdPage(1024) && !pt.HasPmdPage(511));
        Assert.True(pt.HasPudPage(0) && pt.HasPudPage(262143) && !pt.HasPudPage(262144));
        Assert.NotNull(pt.GetOrCreate(1000));
        Assert.Equal([(512L, 8, false), (0L, 7, true)], pt.UpperPages());
        Assert.Equal(8, pt.RemovePmdPage(600));
        Assert.Equal(-1, pt.RemovePmdPage(600));
        Assert.False(pt.HasPmdPage(1000));
        Assert.Equal(7, pt.RemovePudPage(5));
        Assert.Equal(0, pt.UpperPageCount);
    }

    [Theory]
    [InlineData(4096, CpuArch.X86_64, 4)]
    [InlineData(16384, CpuArch.Arm64, 4)]
    [InlineData(65536, CpuArch.Arm64, 3)]
    public void The_first_fault_allocates_a_table_page_at_every_level_below_the_pgd_and_munmap_frees_them(int pageSize, CpuArch arch, int levels)
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 1L << 30, PageSize = pageSize, Arch = arch });
        Assert.Equal(levels, k.Geo.PageTableLevels);
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var mm = k.CreateProcess("p");
        ulong len = (ulong)k.Geo.PmdSize;
        Assert.Equal(0x40000000L, k.Mmap(mm, 0x40000000, len, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(mm, 0x40000000, 0x40000000 + (ulong)pageSize, write: true));
        // the PTE table, the PMD page and, with four levels, the PUD page
        Assert.Equal(levels - 1, k.Vmstat("nr_page_table_pages"));
        Assert.Equal(levels - 1, mm.NrPtes);
        Assert.Equal(0, k.Munmap(mm, 0x40000000, len));
        Assert.Equal(0, k.Vmstat("nr_page_table_pages"));
        Assert.Equal(0, mm.PageTables.UpperPageCount);
    }
}
