using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Debug;
using MthpSim.Core.Folio;

namespace MthpSim.Tests.Core;

public class MemMapTests
{
    [Fact]
    public void A_page_mapcount_beyond_a_byte_is_kept_exactly_and_comes_back_down()
    {
        var map = new MemMap(1024);
        map.EnsureCapacity(1024);
        map.InitFolio(16, 4, PageKind.Anon);
        for (int i = 0; i < 300; i++) map.AddPteMapcount(17, 1);
        Assert.Equal(300, map.PteMapcount(17));
        Assert.Equal(0, map.PteMapcount(16));
        Assert.Equal(16, map.AddPteMapcountRun(16, 16) + 1);   // every page but 17 had none
        Assert.Equal(301, map.PteMapcount(17));
        Assert.Equal(15, map.SubPteMapcountRun(16, 16));
        for (int i = 0; i < 300; i++) map.AddPteMapcount(17, -1);
        Assert.Equal(0, map.PteMapcount(17));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(37)]
    [InlineData(512)]
    public void A_run_of_mapcounts_moves_as_page_by_page_moves(int n)
    {
        // Counts of 0, 1, 2 and 253: a run goes up and down a vector at a time until one count would
        // leave the byte (253 + 2 is kept in the side table), and then page by page.
        var map = new MemMap(1024);
        map.EnsureCapacity(1024);
        map.InitFolio(0, 9, PageKind.Anon);
        int[] start = Enumerable.Range(0, n).Select(i => i % 7 == 3 ? 253 : i % 3).ToArray();
        for (int i = 0; i < n; i++) for (int c = 0; c < start[i]; c++) map.AddPteMapcount(i, 1);
        int[] Counts(int delta) => Enumerable.Range(0, n).Select(i => map.PteMapcount(i) - delta).ToArray();
        int unmapped = start.Count(c => c == 0);

        Assert.Equal(unmapped, map.AddPteMapcountRun(0, n));
        Assert.Equal(start, Counts(1));
        Assert.Equal(0, map.AddPteMapcountRun(0, n));
        Assert.Equal(start, Counts(2));
        Assert.Equal(0, map.SubPteMapcountRun(0, n));
        Assert.Equal(start, Counts(1));
        Assert.Equal(unmapped, map.SubPteMapcountRun(0, n));
        Assert.Equal(start, Counts(0));
    }

    [Fact]
    public void A_negative_mapcount_is_stored_so_that_the_checker_can_report_it()
    {
        var map = new MemMap(64);
        map.EnsureCapacity(64);
        map.InitFolio(0, 0, PageKind.Anon);
        map.AddPteMapcount(0, -1);
        Assert.Equal(-1, map.PteMapcount(0));
    }

    [Fact]
    public void Three_hundred_processes_sharing_a_64k_folio_keep_every_invariant()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("hugepages-64kB/enabled", "always"));
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var p = k.CreateProcess("p");
        Assert.Equal(0x40000000L, k.Mmap(p, 0x40000000, 64 << 10, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(p, 0x40000000, 0x40010000, write: true));
        var children = Enumerable.Range(0, 300).Select(i => k.Fork(p, $"c{i}")!).ToList();
        int pfn = k.ResolvePfn(p, 0x40000000, out _);
        Assert.Equal(301, k.Map.PteMapcount(pfn));
        Assert.Empty(InvariantChecker.Check(k));
        foreach (var c in children) k.Exit(c);
        Assert.Equal(1, k.Map.PteMapcount(pfn));
        Assert.Empty(InvariantChecker.Check(k));
    }

    [Fact]
    public void Large_folio_records_are_reused_after_free_without_growing()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("hugepages-16kB/enabled", "always"));
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var p = k.CreateProcess("p");
        var used = new List<int>();
        for (int round = 0; round < 3; round++)
        {
            Assert.Equal(0x40000000L, k.Mmap(p, 0x40000000, 8 << 20, Prot.Read | Prot.Write));
            Assert.Equal(0, k.Access(p, 0x40000000, 0x40800000, write: true));
            Assert.True(k.Intact(p, 0x40000000, 0x40800000));
            used.Add(k.Map.LargeRecordsUsed);
            Assert.Equal(0, k.Munmap(p, 0x40000000, 8 << 20));
        }
        Assert.Equal(512, used[0]);   // 8M of 16K folios
        Assert.Equal([512, 512, 512], used);
        Assert.Empty(InvariantChecker.Check(k));
    }

    [Theory]
    [InlineData("hugepages-64kB/enabled", "never", 16)]
    [InlineData("hugepages-2048kB/enabled", "always", 512)]
    public void A_folio_of_16_pages_or_more_keeps_its_record_in_its_tail_pages(string size, string top, int pages)
    {
        // as the kernel keeps _entire_mapcount, _deferred_list and the rest in tail struct pages:
        // no side table, and the fields live and move with the folio
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite(size, "always"));
        Assert.Equal(0, k.SysfsWrite("enabled", top));
        var p = k.CreateProcess("p");
        Assert.Equal(0x40000000L, k.Mmap(p, 0x40000000, 8 << 20, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(p, 0x40000000, 0x40800000, write: true));
        Assert.Equal(System.Numerics.BitOperations.Log2((uint)pages), k.FolioOrderAt(p, 0x40000000));
        Assert.Equal(0, k.Map.LargeRecordsUsed);
        var child = k.Fork(p, "child")!;
        // the parent unmaps 2M from 12K in: a PMD split, folios partly unmapped and queued for deferred split (their links in the records)
        Assert.Equal(0, k.Munmap(p, 0x40003000, 2 << 20));
        Assert.True(k.Intact(p, 0x40203000, 0x40800000));
        Assert.True(k.Intact(child, 0x40000000, 0x40800000));
        Assert.Empty(InvariantChecker.Check(k));
        k.Exit(child);
        Assert.Equal(0, k.Munmap(p, 0x40000000, 8 << 20));
        Assert.Empty(InvariantChecker.Check(k));
    }

}
