using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Debug;

namespace MthpSim.Tests.Core;

public class InvariantCheckerTests
{
    static (Kernel k, MthpSim.Core.Vma.MmStruct mm) MachineWith64kFolios()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("hugepages-64kB/enabled", "always"));
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var mm = k.CreateProcess("p");
        Assert.Equal(0x40000000L, k.Mmap(mm, 0x40000000, 1 << 20, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(mm, 0x40000000, 0x40100000, write: true));
        return (k, mm);
    }

    [Fact]
    public void A_consistent_machine_has_no_violation()
    {
        var (k, _) = MachineWith64kFolios();
        Assert.Empty(InvariantChecker.Check(k));
    }

    [Fact]
    public void A_cgroup_charge_that_no_page_holds_is_reported()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        var cg = k.CreateCgroup("cg", 64L << 20);
        var mm = k.CreateProcess("p");
        Assert.Equal(0, k.AttachCgroup(mm, cg));
        Assert.Equal(0x40000000L, k.Mmap(mm, 0x40000000, 1 << 20, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(mm, 0x40000000, 0x40010000, write: true));
        Assert.Empty(InvariantChecker.Check(k));
        // One batch of 64: a page of kernel objects (the VMA), the PUD and PMD pages and a page table,
        // 16 pages, the rest in the stock
        Assert.Equal(64, cg.UsagePages);
        Assert.Equal(44, cg.StockPages);
        Assert.Equal(1, cg.KmemPages);
        cg.Charge(3);   // a charge nobody made
        var errors = InvariantChecker.Check(k);
        Assert.Equal(["cgroup 'cg' usage is 67 pages: 19 pages are charged to it, 44 are in the charge stock, 1 hold kernel objects"], errors);
    }

    [Fact]
    public void Free_frames_charged_to_a_cgroup_are_each_reported()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        var cg = k.CreateCgroup("cg", null);
        var mm = k.CreateProcess("p");
        Assert.Equal(0, k.AttachCgroup(mm, cg));
        Assert.Equal(0x40000000L, k.Mmap(mm, 0x40000000, 1 << 20, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(mm, 0x40000000, 0x40010000, write: true));
        Assert.Empty(InvariantChecker.Check(k));
        // A free block below the frontier, charged as if it were a folio of its order: every frame of it is wrong.
        var (head, order) = k.Buddy.FreeBlocks().First(b => b.Order is > 0 and < 4 && b.Pfn + (1 << b.Order) <= k.Map.Capacity);
        Assert.True(k.MemcgCharge(head, mm, MthpSim.Core.Memcg.ChargeGfp.NoReclaim));
        var errors = InvariantChecker.Check(k).Where(e => e.StartsWith("pfn ")).ToList();
        Assert.Equal(Enumerable.Range(head, 1 << order).Select(p => $"pfn {p:x} ({(p == head ? "FreeHead" : "FreeTail")}) is charged to cgroup 'cg'"), errors);
    }

    /// <summary>Four 64K folios paged out to a disk swap device (left in the swap cache), one of them mapped again.</summary>
    static (Kernel k, MthpSim.Core.Vma.MmStruct mm) MachineWithSwapCache()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20, SwapBytes = 16L << 20, SwapDevice = MthpSim.Core.Swap.SwapDeviceKind.Disk });
        Assert.Equal(0, k.SysfsWrite("hugepages-64kB/enabled", "always"));
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var mm = k.CreateProcess("p");
        Assert.Equal(0x40000000L, k.Mmap(mm, 0x40000000, 256 << 10, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(mm, 0x40000000, 0x40040000, write: true));
        Assert.Equal(0, k.Madvise(mm, 0x40000000, 256 << 10, MadviseAdvice.Pageout));
        Assert.Equal(0, k.Access(mm, 0x40000000, 0x40001000, write: false));
        return (k, mm);
    }

    [Fact]
    public void A_consistent_machine_with_a_swap_cache_has_no_violation()
    {
        var (k, mm) = MachineWithSwapCache();
        Assert.Equal(64, k.SwapCache!.Pages);
        Assert.Equal(4, k.Map.Order(k.ResolvePfn(mm, 0x40000000, out _)));
        Assert.Empty(InvariantChecker.Check(k));
    }

    [Fact]
    public void A_folio_the_swap_cache_forgot_is_caught()
    {
        var (k, mm) = MachineWithSwapCache();
        int head = k.ResolvePfn(mm, 0x40000000, out _);
        int offset = k.SwapCache!.OffsetOf(head);
        k.SwapCache.Remove(head, 16);   // the device still names it, and its references stay
        Assert.True(k.SwapInfo!.CachedFolio(offset) == head);
        var errors = InvariantChecker.Check(k);
        Assert.Contains(errors, e => e.Contains($"folio {head:x}: refcount 32 but 16 mappings and 0 pins (leak)"));
        Assert.Contains(errors, e => e.Contains("swap device has 64 slots in use, swap entries and the swap cache hold 48"));
    }

    /// <summary>A memfd with a 64K folio mapped shared by two processes.</summary>
    static (Kernel k, MthpSim.Core.Vma.MmStruct mm, MthpSim.Core.Shmem.ShmemFile f) MachineWithSharedShmem()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("hugepages-64kB/shmem_enabled", "always"));
        var f = k.MemfdCreate("f", 1 << 20);
        var mm = k.CreateProcess("p");
        var q = k.CreateProcess("q");
        Assert.Equal(0x40000000L, k.MmapShmem(mm, 0x40000000, 1 << 20, Prot.Read | Prot.Write, f, 0, shared: true));
        Assert.Equal(0x50000000L, k.MmapShmem(q, 0x50000000, 1 << 20, Prot.Read | Prot.Write, f, 0, shared: true));
        Assert.Equal(0, k.Access(mm, 0x40000000, 0x40010000, write: true));
        Assert.Equal(0, k.Access(q, 0x50000000, 0x50001000, write: false));
        return (k, mm, f);
    }

    [Fact]
    public void A_consistent_machine_with_shared_shmem_has_no_violation()
    {
        var (k, _, f) = MachineWithSharedShmem();
        Assert.Equal(4, k.FileFolioOrder(f, 0));
        Assert.Empty(InvariantChecker.Check(k));
    }

    [Fact]
    public void Shmem_content_that_differs_from_the_file_is_caught()
    {
        var (k, mm, f) = MachineWithSharedShmem();
        int pfn = k.ResolvePfn(mm, 0x40003000, out _);
        k.Map.SetContent(pfn, 0);
        Assert.Contains(InvariantChecker.Check(k), e => e.Contains($"{f.Name}: page 3 holds content 0, the file should read"));
    }

    [Fact]
    public void A_shmem_page_missing_from_its_page_cache_is_caught()
    {
        var (k, _, f) = MachineWithSharedShmem();
        int head = f.Cache.Lookup(0);
        f.Cache.Remove(0, 16);
        var errors = InvariantChecker.Check(k);
        Assert.Contains(errors, e => e.Contains($"caches nothing at index 0"));
        Assert.Contains(errors, e => e.Contains($"shmem folio {head:x}: page cache of {f.Name} at index 0 holds"));
        Assert.Contains(errors, e => e.StartsWith($"{f.Name}: page ") && e.Contains(" is a hole, the file should read "));
    }

    [Fact]
    public void A_shmem_folio_that_is_not_uptodate_but_holds_data_is_caught()
    {
        // fallocate leaves a folio not uptodate (it reads zeroes) until something writes it.
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        var f = k.MemfdCreate("f", 1 << 20);
        Assert.Equal(0, k.Fallocate(f, punch: false, 0, 1 << 20));
        Assert.Empty(InvariantChecker.Check(k));
        int head = f.Cache.Lookup(5);
        long index = 5 & ~((1L << k.Map.Order(head)) - 1);
        k.Map.SetContent(head, 7);
        Assert.Contains(InvariantChecker.Check(k), e => e.Contains($"{f.Name}: page {index} holds content 7, the file should read 0 (not uptodate)"));
        // Even where it holds what the file should read: not uptodate, it reads zeroes.
        f.RecordContent(index, 1, 7);
        Assert.Contains(InvariantChecker.Check(k), e => e.Contains($"{f.Name}: page {index} holds content 7, the file should read 7 (not uptodate)"));
    }

    [Fact]
    public void A_reused_checker_catches_a_swap_count_no_entry_accounts_for()
    {
        var (k, _) = MachineWithSwapCache();
        var checker = new InvariantChecker();
        Assert.Empty(checker.Run(k));
        // A slot that swap entries refer to, given one reference too many.
        int offset = Enumerable.Range(1, k.SwapInfo!.Max - 1).First(o => k.SwapInfo.Count(o) > 0), count = k.SwapInfo.Count(offset);
        k.SwapInfo.AddCount(offset, 1);
        Assert.Contains(checker.Run(k), e => e == $"swap slot {offset} has count {count + 1}, {count} swap entries refer to it");
    }

    [Fact]
    public void A_reused_checker_catches_a_folio_taken_off_its_LRU_list()
    {
        var (k, mm) = MachineWithSwapCache();   // a machine with swap keeps LRU lists
        var checker = new InvariantChecker();
        Assert.Empty(checker.Run(k));
        int head = k.Map.HeadOf(k.ResolvePfn(mm, 0x40000000, out _));
        // The last check found it on a list; this one must not take that mark for its own.
        k.Lru!.Del(k.RootLruvec!, head, 16);
        var errors = checker.Run(k);
        Assert.Contains(errors, e => e == $"Anon folio {head:x} is on no LRU list");
    }

    [Fact]
    public void A_corrupted_mapcount_is_caught()
    {
        var (k, mm) = MachineWith64kFolios();
        int pfn = k.ResolvePfn(mm, 0x40005000, out _);
        k.Map.AddPteMapcount(pfn, 1);
        var errors = InvariantChecker.Check(k);
        Assert.Contains(errors, e => e.Contains($"PFN {pfn:x}: mapcount 2 but 1 PTEs map it"));
    }

    [Fact]
    public void A_corrupted_refcount_is_caught()
    {
        var (k, mm) = MachineWith64kFolios();
        int head = k.Map.HeadOf(k.ResolvePfn(mm, 0x40005000, out _));
        k.Map.AddRef(head, -2);
        Assert.Contains(InvariantChecker.Check(k), e => e.Contains("refcount 14 below mapcount 16"));
    }

    [Fact]
    public void Lost_content_is_caught()
    {
        var (k, mm) = MachineWith64kFolios();
        int pfn = k.ResolvePfn(mm, 0x40002000, out _);
        k.Map.SetContent(pfn, 0);
        Assert.Contains(InvariantChecker.Check(k), e => e.Contains("page at 40002000 holds content 0"));
    }

    [Fact]
    public void A_corrupted_rss_counter_is_caught()
    {
        var (k, mm) = MachineWith64kFolios();
        mm.Rss[(int)MthpSim.Core.Vma.RssMember.AnonPages]++;
        Assert.Contains(InvariantChecker.Check(k), e => e.Contains("RSS anon counter 257 != 256"));
    }

    /// <summary>
    /// A checker that already checked this machine, a corruption, then a statement that touches
    /// other memory only: the checker reused as the fuzzer reuses it must still catch the corruption
    /// (a shortcut that rechecks only what the last statement touched would not).
    /// </summary>
    static List<string> CheckAfterAnUnrelatedStatement(Action<Kernel, MthpSim.Core.Vma.MmStruct> corrupt)
    {
        var (k, mm) = MachineWith64kFolios();
        var other = k.CreateProcess("q");
        Assert.Equal(0x50000000L, k.Mmap(other, 0x50000000, 1 << 20, Prot.Read | Prot.Write));
        var checker = new InvariantChecker();
        Assert.Empty(checker.Run(k));
        corrupt(k, mm);
        Assert.Equal(0, k.Access(other, 0x50000000, 0x50100000, write: true));
        return checker.Run(k);
    }

    [Fact]
    public void A_reused_checker_catches_a_corrupted_mapcount_of_an_untouched_page()
    {
        int pfn = -1;
        var errors = CheckAfterAnUnrelatedStatement((k, mm) => k.Map.AddPteMapcount(pfn = k.ResolvePfn(mm, 0x40005000, out _), 1));
        Assert.Contains(errors, e => e.Contains($"PFN {pfn:x}: mapcount 2 but 1 PTEs map it"));
    }

    [Fact]
    public void A_reused_checker_catches_a_corrupted_refcount_of_an_untouched_folio()
    {
        var errors = CheckAfterAnUnrelatedStatement((k, mm) => k.Map.AddRef(k.Map.HeadOf(k.ResolvePfn(mm, 0x40085000, out _)), 1));
        Assert.Contains(errors, e => e.Contains("refcount 17 but 16 mappings and 0 pins (leak)"));
    }

    [Fact]
    public void A_reused_checker_catches_an_untouched_rss_counter()
    {
        var errors = CheckAfterAnUnrelatedStatement((k, mm) => mm.Rss[(int)MthpSim.Core.Vma.RssMember.AnonPages]--);
        Assert.Contains(errors, e => e.Contains("p: RSS anon counter 255 != 256"));
    }

    /// <summary>Order-0 pages at consecutive frames (checked a run at a time), then a run of zero-page entries.</summary>
    static (Kernel k, MthpSim.Core.Vma.MmStruct mm) MachineWithRuns()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var mm = k.CreateProcess("p");
        Assert.Equal(0x40000000L, k.Mmap(mm, 0x40000000, 1 << 20, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(mm, 0x40000000, 0x40080000, write: true));
        Assert.Equal(0, k.Access(mm, 0x40080000, 0x40100000, write: false));
        Assert.Equal(k.ResolvePfn(mm, 0x40000000, out _) + 100, k.ResolvePfn(mm, 0x40064000, out _));
        Assert.Empty(InvariantChecker.Check(k));
        return (k, mm);
    }

    [Fact]
    public void A_page_of_another_kind_inside_a_run_of_anon_pages_is_caught()
    {
        var (k, mm) = MachineWithRuns();
        int pfn = k.ResolvePfn(mm, 0x40032000, out _);
        uint content = k.Map.Content(pfn);
        k.Map.InitFolio(pfn, 0, MthpSim.Core.Folio.PageKind.Shmem);
        k.Map.SetContent(pfn, content);   // still reads what the program wrote: only the kind is wrong
        Assert.Contains(InvariantChecker.Check(k), e => e == $"p: PTE at 40032000 maps PFN {pfn:x} which is not part of a live anon folio");
    }

    [Fact]
    public void A_page_the_program_wrote_inside_a_run_of_zero_pages_is_caught()
    {
        var (k, mm) = MachineWithRuns();
        mm.PageTables.Find(0x40000000 >> 21)!.Expected![0xc7] = 5;   // 0x400c7000 reads the zero page
        Assert.Contains(InvariantChecker.Check(k), e => e == "p: page at 400c7000 holds content 0, the program expects 5");
    }

    [Fact]
    public void A_reused_checker_catches_lost_content_of_an_untouched_page()
    {
        var errors = CheckAfterAnUnrelatedStatement((k, mm) => k.Map.SetContent(k.ResolvePfn(mm, 0x400ff000, out _), 0));
        Assert.Contains(errors, e => e.Contains("p: page at 400ff000 holds content 0"));
    }

    [Fact]
    public void A_reused_checker_catches_a_wrong_expectation_of_an_untouched_page()
    {
        // The oracle side of the content check: what the program stored, kept beside the page tables.
        var errors = CheckAfterAnUnrelatedStatement((k, mm) => mm.PageTables.Find(0x40000000 >> 21)!.Expected![7] ^= 1);
        Assert.Contains(errors, e => e.Contains("p: page at 40007000 holds content"));
    }

    [Fact]
    public void A_reused_checker_catches_a_used_page_inside_a_free_block()
    {
        int pfn = -1;
        var errors = CheckAfterAnUnrelatedStatement((k, _) =>
        {
            var (head, order) = k.Buddy.FreeBlocks().First(b => b.Order > 0);
            k.Map.InitFolio(pfn = head + (1 << order) - 1, 0, MthpSim.Core.Folio.PageKind.Anon);
        });
        Assert.Contains(errors, e => e.Contains($"contains a used page {pfn:x}"));
        Assert.Contains(errors, e => e.Contains("pages marked free but free lists hold"));
    }

    [Fact]
    public void A_reused_checker_catches_a_free_block_missing_from_its_list()
    {
        var errors = CheckAfterAnUnrelatedStatement((k, _) =>
        {
            // The head of a listed free block handed out behind the allocator's back: the list entry is now stale.
            var (head, order) = k.Buddy.FreeBlocks().First(b => b.Order > 0);
            k.Map.InitFolio(head, 0, MthpSim.Core.Folio.PageKind.Anon);
        });
        Assert.Contains(errors, e => e.Contains("blocks listed"));
    }

    [Fact]
    public void A_large_mapping_barely_touched_is_checked_as_fully_as_a_dense_one()
    {
        // 1 GiB mapped, three pages touched: the checker walks the populated slots, not the span.
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        var mm = k.CreateProcess("p");
        Assert.Equal(0x40000000L, k.Mmap(mm, 0x40000000, 1L << 30, Prot.Read | Prot.Write));
        foreach (ulong a in new ulong[] { 0x40000000, 0x50000000, 0x7ff00000 })
            Assert.Equal(0, k.Access(mm, a, a + 4096, write: true));
        var checker = new InvariantChecker();
        Assert.Empty(checker.Run(k));
        int pfn = k.ResolvePfn(mm, 0x50000000, out _);
        int ptes = k.Map.PteMapcount(pfn);   // 0 under a PMD mapping
        k.Map.AddPteMapcount(pfn, 1);
        k.Map.SetContent(k.ResolvePfn(mm, 0x7ff00000, out _), 0);
        var errors = checker.Run(k);
        Assert.Contains(errors, e => e.Contains($"PFN {pfn:x}: mapcount {ptes + 1} but {ptes} PTEs map it"));
        Assert.Contains(errors, e => e.Contains("page at 7ff00000 holds content 0"));
        Assert.Equal(ReferenceInvariantChecker.Check(k), errors);
    }

    [Fact]
    public void A_stale_VMA_tree_gap_is_caught()
    {
        var (k, mm) = MachineWith64kFolios();
        Assert.True(k.Mmap(mm, 0x50000000, 1 << 20, Prot.Read) > 0);
        var root = mm.FindVma(0x40000000)!;
        while (root.Parent != null) root = root.Parent;
        root.SubtreeMaxGap++;   // as if a range had changed behind the tree's back
        Assert.Contains(InvariantChecker.Check(k), e => e.Contains("VMA tree:") && e.Contains("stale augmentation"));
    }

    [Fact]
    public void Two_machines_run_side_by_side_independently()
    {
        var (a, _) = MachineWith64kFolios();
        var b = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal("[always] madvise never", b.SysfsRead("enabled"));
        Assert.Equal("16", a.SysfsRead("hugepages-64kB/stats/anon_fault_alloc"));
        Assert.Equal("always madvise [never]", a.SysfsRead("enabled"));
        Assert.Equal("0", b.SysfsRead("hugepages-64kB/stats/anon_fault_alloc"));
    }
}
