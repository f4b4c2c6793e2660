using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>
/// A run of order-0 or mTHP write faults, and a pwrite() into a file's holes, are taken in batches (the
/// buddy allocator's pages a block at a time, the mapping per run of frames); each must leave what
/// the same faults and writes taken one page at a time leave: the same frames at the same places,
/// the same content, counters and free lists. The memory is fragmented first, so that the batch
/// meets free blocks of every order.
/// </summary>
public class FaultBatchTests
{
    const ulong Base = 0x40000000, Len = 6UL << 20;
    const int Page = 4096;

    static (Kernel K, MmStruct Mm) Fragmented()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 128L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));   // every fault order 0
        var mm = k.CreateProcess("p");
        // order-0 pages written, then every third one unmapped in runs of 1 to 7 pages
        const ulong churn = 0x80000000, churnLen = 4UL << 20;
        Assert.Equal((long)churn, k.Mmap(mm, churn, churnLen, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(mm, churn, churn + churnLen, write: true));
        var rng = new Random(5);
        for (ulong a = churn; a < churn + churnLen; a += (ulong)Page * 3 * 8)
            Assert.Equal(0, k.Munmap(mm, a, (ulong)Page * (ulong)rng.Next(1, 8)));
        return (k, mm);
    }

    static void AssertSame(Kernel a, Kernel b, MmStruct ma, MmStruct mb)
    {
        Assert.Equal(b.RenderMeminfo(), a.RenderMeminfo());
        Assert.Equal(b.RenderBuddyinfo(), a.RenderBuddyinfo());
        Assert.Equal(b.RenderVmstat(), a.RenderVmstat());
        Assert.Equal(mb.MinFlt, ma.MinFlt);
        Assert.Equal(mb.Rss, ma.Rss);
        Assert.Equal(mb.Work.Counts, ma.Work.Counts);
    }

    [Fact]
    public void A_run_of_write_faults_maps_what_one_fault_at_a_time_maps()
    {
        var (a, ma) = Fragmented();
        var (b, mb) = Fragmented();
        foreach (var (k, mm) in new[] { (a, ma), (b, mb) })
            Assert.Equal((long)Base, k.Mmap(mm, Base, Len, Prot.Read | Prot.Write));
        Assert.Equal(0, a.Access(ma, Base, Base + Len, write: true));
        for (ulong p = Base; p < Base + Len; p += Page) Assert.Equal(0, b.Access(mb, p, p + Page, write: true));

        AssertSame(a, b, ma, mb);
        for (long pmd = (long)(Base >> 21); pmd < (long)((Base + Len) >> 21); pmd++)
        {
            var sa = ma.PageTables.Find(pmd)!;
            var sb = mb.PageTables.Find(pmd)!;
            Assert.Equal(sb.Ptes, sa.Ptes);
        }
        for (ulong p = Base; p < Base + Len; p += Page) Assert.Equal(b.ContentAt(mb, p), a.ContentAt(ma, p));
        // the batch was taken: the pages' frames are not one block's
        var frames = ma.PageTables.Find((long)(Base >> 21))!.Ptes!.Select(Pte.Pfn).ToArray();
        Assert.Contains(frames.Zip(frames.Skip(1)), f => f.Second != f.First + 1);
    }

    /// <summary>
    /// Runs of mTHP write faults (<c>LargeFaultRuns</c>) against one fault at a time with the runs
    /// off, on fragmented memory: from a block's start and from inside one, ending inside a folio,
    /// with two sizes enabled (the larger where it fits), and on a machine the writes take below
    /// the low watermark (the runs stop there; the rest fall back and reclaim as before).
    /// </summary>
    [Theory]
    [InlineData("16kB", 0UL, 6UL << 20, 128)]
    [InlineData("32kB", 3UL * Page, (6UL << 20) - 5 * Page, 128)]
    [InlineData("64kB", 0UL, (6UL << 20) - 3 * Page, 128)]
    [InlineData("16kB,64kB", 5UL * Page, 6UL << 20, 128)]
    [InlineData("16kB,32kB,64kB", 0UL, 41UL << 20, 42)]
    [InlineData("16kB,64kB", 3UL * Page, 6UL << 20, 64, true)]   // arm64: 64K folios folded into contiguous blocks
    public void A_run_of_mthp_write_faults_maps_what_one_fault_at_a_time_maps(string sizes, ulong from, ulong to, int memoryMb, bool arm64 = false)
    {
        (Kernel, MmStruct) Make(bool runs)
        {
            var config = MachineConfig.Default with { MemoryBytes = (long)memoryMb << 20, Arch = arm64 ? CpuArch.Arm64 : CpuArch.X86_64 };
            var (k, mm) = memoryMb == 128 ? Fragmented() : (new Kernel(config), null!);
            mm ??= k.CreateProcess("p");
            Assert.Equal(0, k.SysfsWrite("enabled", "never"));
            foreach (var size in sizes.Split(',')) Assert.Equal(0, k.SysfsWrite($"hugepages-{size}/enabled", "always"));
            k.LargeFaultRuns = runs;
            Assert.Equal((long)Base, k.Mmap(mm, Base, Len << 3, Prot.Read | Prot.Write));
            return (k, mm);
        }
        var (a, ma) = Make(runs: true);
        var (b, mb) = Make(runs: false);
        Assert.Equal(0, a.Access(ma, Base + from, Base + to, write: true));
        for (ulong p = Base + from; p < Base + to; p += Page) Assert.Equal(0, b.Access(mb, p, p + Page, write: true));

        AssertSame(a, b, ma, mb);
        for (int order = 1; order < 9; order++)
            foreach (var stat in Enum.GetValues<MthpSim.Core.Stats.MthpStat>().Where(s => s != MthpSim.Core.Stats.MthpStat.Count))
                Assert.Equal(b.Stats.Get(order, stat), a.Stats.Get(order, stat));
        for (long pmd = (long)(Base >> 21); pmd < (long)((Base + to + (2UL << 20) - 1) >> 21); pmd++)
        {
            Assert.Equal(mb.PageTables.Find(pmd)?.Ptes, ma.PageTables.Find(pmd)?.Ptes);
            Assert.Equal(mb.PageTables.Find(pmd)?.ContBlocks, ma.PageTables.Find(pmd)?.ContBlocks);
        }
        if (arm64) Assert.NotNull(ma.PageTables.Find((long)(Base >> 21))!.ContBlocks);
        for (ulong p = Base; p < Base + to; p += Page) Assert.Equal(b.ContentAt(mb, p), a.ContentAt(ma, p));
        Assert.Empty(MthpSim.Core.Debug.InvariantChecker.Check(a));
    }

    [Fact]
    public void A_pwrite_into_holes_fills_the_page_cache_as_one_page_at_a_time_does()
    {
        var (a, ma) = Fragmented();
        var (b, mb) = Fragmented();
        var files = new List<MthpSim.Core.Shmem.ShmemFile>();
        foreach (var k in new[] { a, b })
        {
            Assert.Equal(0, k.TmpfsMount("never", null, out var mount));
            var f = k.CreateFile("/lib/x.so", mount!, 0);
            // a hole, a page written, and holes again: the write meets holes and a folio
            Assert.Equal(Page, k.Pwrite(f, 5L * Page, Page));
            files.Add(f);
        }
        Assert.Equal((long)Len - 100, a.Pwrite(files[0], 100, (long)Len - 100));
        for (long off = 100; off < (long)Len; off = (off / Page + 1) * Page)
        {
            long n = Math.Min((off / Page + 1) * Page, (long)Len) - off;
            Assert.Equal(n, b.Pwrite(files[1], off, n));
        }

        AssertSame(a, b, ma, mb);
        Assert.Equal(files[1].Size, files[0].Size);
        for (long i = 0; i < (long)Len / Page; i++) Assert.Equal(files[1].Cache.Lookup(i), files[0].Cache.Lookup(i));
        // what a mapping of each file reads
        foreach (var (k, mm, f) in new[] { (a, ma, files[0]), (b, mb, files[1]) })
            Assert.Equal(0x50000000L, k.MmapShmem(mm, 0x50000000, Len, Prot.Read, f, 0, shared: true));
        for (ulong p = 0x50000000; p < 0x50000000 + Len; p += Page) Assert.Equal(b.ContentAt(mb, p), a.ContentAt(ma, p));
    }

    [Fact]
    public void A_fork_of_PMD_mapped_memory_takes_its_page_tables_as_one_at_a_time_does()
    {
        (Kernel K, MmStruct Parent, MmStruct Child) Forked(bool runs)
        {
            var (k, mm) = Fragmented();
            k.SmallAllocationRuns = runs;
            Assert.Equal(0, k.SysfsWrite("enabled", "always"));
            // PMD THPs with a hole and an order-0 range among them, then a second run of THPs
            Assert.Equal((long)Base, k.Mmap(mm, Base, 24UL << 20, Prot.Read | Prot.Write));
            Assert.Equal(0, k.Access(mm, Base, Base + (10UL << 20), write: true));
            Assert.Equal(0, k.Access(mm, Base + (14UL << 20), Base + (24UL << 20), write: true));
            Assert.Equal(0, k.Madvise(mm, Base + (12UL << 20), 2UL << 20, MadviseAdvice.Nohugepage));
            Assert.Equal(0, k.Access(mm, Base + (12UL << 20), Base + (13UL << 20), write: true));
            var child = k.Fork(mm, "c")!;
            return (k, mm, child);
        }
        var (a, pa, ca) = Forked(runs: true);
        var (b, pb, cb) = Forked(runs: false);
        AssertSame(a, b, ca, cb);
        AssertSame(a, b, pa, pb);
        for (long pmd = (long)(Base >> 21); pmd < (long)((Base + (24UL << 20)) >> 21); pmd++)
            Assert.Equal(cb.PageTables.Find(pmd)?.TablePfn, ca.PageTables.Find(pmd)?.TablePfn);
        Assert.True(ca.PageTables.Find((long)(Base >> 21))!.Kind == PmdKind.Huge, "the child maps a PMD THP");
        // and the child's exit gives them back alike
        a.Exit(ca);
        b.Exit(cb);
        Assert.Equal(b.RenderBuddyinfo(), a.RenderBuddyinfo());
        Assert.Equal(b.RenderMeminfo(), a.RenderMeminfo());
    }

    /// <summary>
    /// A file's pages mapped by fault-around in two processes (some written through a shared
    /// mapping, some touched again since, some mapped by both): an unmap of the whole range drops the
    /// runs of them in one pass, which must leave what zapping folio by folio leaves: the folios'
    /// dirty and accessed state (and so the LRU's active and inactive lists), the mapcounts and counters.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_unmap_of_file_pages_mapped_by_fault_around_drops_them_as_zapping_folio_by_folio_does(bool swap)
    {
        const ulong other = 0x60000000;
        (Kernel K, MmStruct Mm, MmStruct Other, MthpSim.Core.Shmem.ShmemFile File) Mapped()
        {
            var k = new Kernel(MachineConfig.Default with { MemoryBytes = 128L << 20, SwapBytes = swap ? 32L << 20 : 0 });
            Assert.Equal(0, k.SysfsWrite("enabled", "never"));
            var mm = k.CreateProcess("p");
            var o = k.CreateProcess("o");
            Assert.Equal(0, k.TmpfsMount("never", null, out var mount));
            // the first half written (the page cache in runs), the second half holes that faults fill
            // with clean folios, which a store through a present entry dirties only in the PTE
            var f = k.CreateFile("/lib/x.so", mount!, (long)Len);
            Assert.Equal((long)Len / 2, k.Pwrite(f, 0, (long)Len / 2));
            Assert.Equal((long)Base, k.MmapShmem(mm, Base, Len, Prot.Read | Prot.Write, f, 0, shared: true));
            Assert.Equal((long)other, k.MmapShmem(o, other, Len, Prot.Read, f, 0, shared: true));
            var rng = new Random(3);
            for (int n = 0; n < 400; n++)
            {
                ulong page = (ulong)rng.Next(0, (int)(Len / Page)) * Page;
                bool write = rng.Next(4) == 0;
                Assert.Equal(0, k.Access(mm, Base + page, Base + page + Page, write));
                if (rng.Next(3) == 0) Assert.Equal(0, k.Access(o, other + page, other + page + Page, write: false));
            }
            // MADV_COLD: the folios inactive and unreferenced, their young bits cleared; then some
            // touched again, whose young bit the unmap passes to folio_mark_accessed()
            Assert.Equal(0, k.Madvise(mm, Base, Len, MadviseAdvice.Cold));
            for (int n = 0; n < 200; n++)
            {
                ulong page = (ulong)rng.Next(0, (int)(Len / Page)) * Page;
                Assert.Equal(0, k.Access(mm, Base + page, Base + page + Page, write: false));
            }
            return (k, mm, o, f);
        }
        var (a, ma, oa, fa) = Mapped();
        var (b, mb, ob, fb) = Mapped();
        Assert.Equal(0, a.Munmap(ma, Base, Len));
        b.ZapFolioRuns = false;   // folio by folio
        Assert.Equal(0, b.Munmap(mb, Base, Len));
        if (swap) Assert.True(Vmstat(a, "pgactivate") > 0, "the unmap marked folios accessed (the LRU is there with swap)");
        Assert.Equal(b.RenderMeminfo(), a.RenderMeminfo());
        Assert.Equal(b.RenderVmstat(), a.RenderVmstat());
        Assert.Equal(b.RenderBuddyinfo(), a.RenderBuddyinfo());
        Assert.Equal(mb.Rss, ma.Rss);
        Assert.Equal(b.RenderSmaps(ob.Vmas), a.RenderSmaps(oa.Vmas));
        Assert.Empty(MthpSim.Core.Debug.InvariantChecker.Check(a));
        // a read of the file marks each folio accessed once more: referenced ones are activated
        Assert.Equal((long)Len, a.Pread(fa!, 0, (long)Len));
        Assert.Equal((long)Len, b.Pread(fb!, 0, (long)Len));
        Assert.Equal(b.RenderVmstat(), a.RenderVmstat());
        Assert.Equal(b.RenderMeminfo(), a.RenderMeminfo());
        if (!swap) return;
        // what reclaim then does with the file's folios depends on their state: the same
        foreach (var (k, o) in new[] { (a, oa), (b, ob) })
        {
            Assert.Equal(0x70000000L, k.Mmap(o, 0x70000000, 120UL << 20, Prot.Read | Prot.Write));
            Assert.Equal(0, k.Access(o, 0x70000000, 0x70000000 + (120UL << 20), write: true));
        }
        Assert.Equal(b.RenderVmstat(), a.RenderVmstat());
        Assert.Equal(b.RenderMeminfo(), a.RenderMeminfo());
    }

    /// <summary>
    /// Read faults on a file's pages map the cached ones around them (fault-around), runs of order-0
    /// folios at consecutive frames in one step: the entries (dirty where a shared writable mapping
    /// meets a dirty folio), references, mapcounts, counters and kernel work must be what mapping
    /// them folio by folio gives.
    /// </summary>
    [Fact]
    public void Fault_around_maps_a_files_pages_as_mapping_them_folio_by_folio_does()
    {
        const ulong lib = 0x60000000;
        (Kernel K, MmStruct Mm) Faulted(bool runs)
        {
            var (k, mm) = Fragmented();
            k.FaultAroundRuns = runs;
            Assert.Equal(0, k.TmpfsMount("never", null, out var mount));
            var f = k.CreateFile("/lib/x.so", mount!, (long)Len);
            // written in pieces (frames in runs, some folios dirty), with holes between
            var rng = new Random(9);
            for (long off = 0; off < (long)Len; off += Page * rng.Next(1, 40))
                Assert.Equal((long)Page * 8, k.Pwrite(f, off, Page * 8));
            Assert.Equal((long)Base, k.MmapShmem(mm, Base, Len, Prot.Read | Prot.Write, f, 0, shared: true));
            Assert.Equal((long)lib, k.MmapShmem(mm, lib, Len, Prot.Read, f, 0, shared: false));
            for (int n = 0; n < 300; n++)
            {
                ulong page = (ulong)rng.Next(0, (int)(Len / Page)) * Page;
                Assert.Equal(0, k.Access(mm, (n & 1) == 0 ? Base + page : lib + page, ((n & 1) == 0 ? Base + page : lib + page) + Page, write: false));
            }
            return (k, mm);
        }
        var (a, ma) = Faulted(runs: true);
        var (b, mb) = Faulted(runs: false);
        AssertSame(a, b, ma, mb);
        foreach (ulong start in new[] { Base, lib })
            for (long pmd = (long)(start >> 21); pmd < (long)((start + Len) >> 21); pmd++)
                Assert.Equal(mb.PageTables.Find(pmd)?.Ptes, ma.PageTables.Find(pmd)?.Ptes);
        Assert.Equal(b.RenderSmaps(mb.Vmas), a.RenderSmaps(ma.Vmas));
        Assert.Empty(MthpSim.Core.Debug.InvariantChecker.Check(a));
    }

    /// <summary>
    /// Pages read (the zero page mapped) and then written in a scattered order are copies at frames in
    /// no order; an unmap of them all zaps them in one pass, which must free them as unmapping each
    /// page on its own does.
    /// </summary>
    [Fact]
    public void An_unmap_of_pages_copied_one_at_a_time_frees_them_as_one_unmap_a_page_does()
    {
        (Kernel K, MmStruct Mm) Copied()
        {
            var (k, mm) = Fragmented();
            Assert.Equal((long)Base, k.Mmap(mm, Base, Len, Prot.Read | Prot.Write));
            Assert.Equal(0, k.Access(mm, Base, Base + Len, write: false));
            var rng = new Random(11);
            foreach (int page in Enumerable.Range(0, (int)(Len / Page)).OrderBy(_ => rng.Next()).Take((int)(Len / Page) * 3 / 4))
                Assert.Equal(0, k.Access(mm, Base + (ulong)page * Page, Base + (ulong)page * Page + Page, write: true));
            return (k, mm);
        }
        var (a, ma) = Copied();
        var (b, mb) = Copied();
        Assert.Equal(0, a.Munmap(ma, Base, Len));
        for (ulong p = Base; p < Base + Len; p += Page) Assert.Equal(0, b.Munmap(mb, p, Page));
        Assert.Equal(b.RenderMeminfo(), a.RenderMeminfo());
        Assert.Equal(b.RenderBuddyinfo(), a.RenderBuddyinfo());
        Assert.Equal(b.RenderVmstat(), a.RenderVmstat());
        Assert.Equal(mb.Rss, ma.Rss);
        Assert.Empty(MthpSim.Core.Debug.InvariantChecker.Check(a));
    }

    static long Vmstat(Kernel k, string name) =>
        long.Parse(k.RenderVmstat().Split('\n').Single(l => l.StartsWith(name + " ")).Split(' ')[1]);
}
