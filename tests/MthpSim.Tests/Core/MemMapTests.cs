using FsCheck.Xunit;
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
        // 16K folios mapped by one mm pack their record into their tail pages; once a child maps them
        // too, each needs the whole record in the side table, given back when the child is gone
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("hugepages-16kB/enabled", "always"));
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var p = k.CreateProcess("p");
        var used = new List<int>();
        for (int round = 0; round < 3; round++)
        {
            Assert.Equal(0x40000000L, k.Mmap(p, 0x40000000, 8 << 20, Prot.Read | Prot.Write));
            Assert.Equal(0, k.Access(p, 0x40000000, 0x40800000, write: true));
            Assert.Equal(0, k.Map.LargeRecordsInUse);
            var child = k.Fork(p, "child")!;
            Assert.Equal(512, k.Map.LargeRecordsInUse);   // 8M of 16K folios, each in two mms
            Assert.True(k.Intact(child, 0x40000000, 0x40800000));
            Assert.Empty(InvariantChecker.Check(k));
            k.Exit(child);
            Assert.Equal(0, k.Map.LargeRecordsInUse);
            Assert.True(k.Intact(p, 0x40000000, 0x40800000));
            used.Add(k.Map.LargeRecordsUsed);
            Assert.Equal(0, k.Munmap(p, 0x40000000, 8 << 20));
        }
        Assert.Equal([512, 512, 512], used);
        Assert.Empty(InvariantChecker.Check(k));
    }

    /// <summary>
    /// Whatever a large folio's record holds, and wherever the map keeps it (packed into an order-2
    /// or order-3 folio's tails, whole in the side table, inline from order 4), it reads back as
    /// stored; a record that leaves the packed form and comes back gives its side slot back.
    /// </summary>
    [Property(MaxTest = 300, Replay = "(20261207,1)")]
    public void A_large_folio_record_reads_back_as_stored(byte orderSeed, (int, int, int, int)[] changes)
    {
        int order = 1 + orderSeed % 5;
        var map = new MemMap(1024);
        map.EnsureCapacity(1024);
        map.InitFolio(64, order, PageKind.Anon);
        map.InitFolio(96, 3, PageKind.Anon);   // a neighbour whose record must not change
        var neighbour = new LargeFolioInfo { AnonVma = 7, AnonIndex = 0x7fff0000, LargeMapcount = 8, MmId0 = 3, MmCount0 = 8, NrPagesMapped = 8, DeferredPrev = -1, DeferredNext = -1 };
        map.SetLarge(96, neighbour);
        var want = map.Large(64);
        Assert.Equal(new LargeFolioInfo { DeferredPrev = -1, DeferredNext = -1 }, want);
        foreach (var (field, value, small, mm) in changes)
        {
            // mostly the values a packed record holds, sometimes any value at all
            int v = small % 4 != 0 ? value & 0xF : value;
            switch ((uint)field % 10)
            {
                case 0: want.EntireMapcount = v; break;
                case 1: want.NrPagesMapped = v; break;
                case 2: want.DeferredPrev = small % 2 == 0 ? -1 : v; want.DeferredNext = small % 3 == 0 ? -1 : v; break;
                case 3: want.AnonIndex = small % 4 != 0 ? (long)(uint)value << 4 : (long)value << 32 | (uint)mm; break;
                case 4: want.AnonVma = v; break;
                case 5: want.LargeMapcount = v; want.MmCount0 = want.MmId0 != 0 ? v : 0; break;
                case 6: want.MmId0 = mm & 0xFFFF; want.MmCount0 = mm == 0 ? 0 : want.LargeMapcount; break;
                case 7: (want.MmId1, want.MmCount1) = small % 2 == 0 ? (0, 0) : (mm, v); break;
                case 8: want.MaybeMappedShared = (value & 1) != 0; break;
                default: want.Pincount = small % 2 == 0 ? 0 : v; break;
            }
            map.SetLarge(64, want);
            Assert.Equal(want, map.Large(64));
            Assert.Equal(want.LargeMapcount, map.FolioMapcount(64));
            Assert.Equal(want.EntireMapcount, map.EntireMapcount(64));
            Assert.Equal(want.AnonVma, map.LargeAnonVma(64));
            Assert.Equal(want.Pincount, map.LargePincount(64));
            Assert.Equal(neighbour, map.Large(96));
            bool packs = order is 2 or 3 && PackedLargeFolioInfo.TryPack(want, out _, out _);
            Assert.Equal(order < 4 && !packs ? 1 : 0, map.LargeRecordsInUse);
        }
        map.ReleaseFolio(64);
        Assert.Equal(0, map.LargeRecordsInUse);
        for (int pfn = 65; pfn < 64 + (1 << order); pfn++) Assert.Equal(0, map.Refcount(pfn));   // the tails read zero again
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
