using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Debug;
using MthpSim.Core.Folio;
using MthpSim.Core.PageAlloc;
using MthpSim.Core.Stats;

namespace MthpSim.Tests.Core;

/// <summary>
/// A zap takes a run of large anonymous folios that only its PTEs map in one step and frees the run
/// with one <see cref="BuddyAllocator.FreeRun"/>: it must leave the machine exactly as zapping and
/// freeing them folio by folio does, whatever else maps, pins or holds some of them.
/// </summary>
public class ZapFolioRunTests
{
    const ulong Base = 0x40000000, Len = 8 << 20;

    [Theory]
    [InlineData(1, 4096, CpuArch.X86_64)]
    [InlineData(2, 4096, CpuArch.X86_64)]
    [InlineData(3, 4096, CpuArch.X86_64)]
    [InlineData(4, 4096, CpuArch.X86_64)]
    [InlineData(5, 4096, CpuArch.Arm64)]    // contiguous blocks of 16 entries, as large as a 64K folio
    [InlineData(6, 16384, CpuArch.Arm64)]   // blocks of 128 entries, larger than the folios
    public void Runs_of_large_folios_zap_as_folio_by_folio_does(int seed, int pageSize, CpuArch arch)
    {
        var config = MachineConfig.Default with { MemoryBytes = 128L << 20, SwapBytes = 32L << 20, PageSize = pageSize, Arch = arch };
        var one = Run(seed, config, runs: false);
        var run = Run(seed, config, runs: true);
        Assert.Equal(one, run);
    }

    [Fact]
    public void A_folio_on_the_deferred_split_queue_leaves_it_when_a_run_frees_it()
    {
        // A PMD fault queues its THP for the shrinker; write-protecting one page through
        // userfaultfd maps it by PTEs in the same VMA, and munmap then unmaps it whole, one PTE per page.
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 128L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", "always"));
        var p = k.CreateProcess("p");
        Assert.Equal((long)Base, k.Mmap(p, Base, 2 << 20, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(p, Base, Base + (2 << 20), write: true));
        Assert.True(k.PmdMappedAt(p, Base));
        Assert.Equal(0, k.UffdRegister(p, Base, 2 << 20, MthpSim.Core.Vma.VmFlags.UffdWp));
        Assert.Equal(0, k.UffdWriteProtect(p, Base + 4096, 4096, enable: true));
        Assert.False(k.PmdMappedAt(p, Base));
        Assert.Equal(1, k.DeferredSplitQueueLength);
        Assert.Equal(0, k.Munmap(p, Base, 2 << 20));
        Assert.Empty(InvariantChecker.Check(k));
        Assert.Equal(0, k.DeferredSplitQueueLength);
        Assert.Equal(0, k.Stats.Get(k.Geo.PmdOrder, MthpStat.NrAnon));
    }

    static List<string> Run(int seed, MachineConfig config, bool runs)
    {
        var rng = new Random(seed);
        var k = new Kernel(config);
        k.ZapFolioRuns = runs;
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));   // no PMD mappings: PTE-mapped large folios only
        for (int order = 2; order <= 5; order++)
            Assert.Equal(0, k.SysfsWrite($"hugepages-{(config.PageSize << order) >> 10}kB/enabled", rng.Next(3) == 0 ? "never" : "always"));
        // arm64: folios as large as a contiguous block, whose entries get folded
        if (k.Geo.ContPtes > 0) Assert.Equal(0, k.SysfsWrite($"hugepages-{((long)config.PageSize * k.Geo.ContPtes) >> 10}kB/enabled", "always"));
        ulong page = (ulong)config.PageSize;
        var p = k.CreateProcess("p");
        Assert.Equal((long)Base, k.Mmap(p, Base, Len, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(p, Base, Base + Len, write: true));
        // whole folios out of the middle of a table (and of contiguous blocks on arm64)
        Assert.Equal(0, k.Munmap(p, Base + 16 * page, 64 * page));
        var states = new List<string> { State(k, p) };
        MthpSim.Core.Vma.MmStruct? child = null;
        for (int step = 0; step < 12; step++)
        {
            ulong at = Base + (ulong)rng.Next(0, (int)(Len / page)) * page, len = (ulong)rng.Next(1, 64) * page;
            ulong end = Math.Min(at + len, Base + Len);
            switch (rng.Next(6))
            {
                case 0 when child == null: child = k.Fork(p, "c"); break;   // every folio shared
                case 1: k.Pin(p, at, end); break;                            // extra references
                case 2: k.Madvise(p, at, page, MadviseAdvice.Dontneed); break; // a folio partly mapped, on the deferred split queue
                case 3: k.Madvise(p, at, end - at, MadviseAdvice.Pageout); break; // into the swap cache, or out
                case 4 when child != null: k.Access(child, at, end, write: true); break;   // copies: the parent's own again
                default: k.Munmap(p, at, end - at); break;
            }
            var errors = InvariantChecker.Check(k);
            Assert.True(errors.Count == 0, string.Join("\n", errors));
            states.Add(State(k, p));
        }
        // the parent first, at times: folios it left partly mapped are on the deferred split queue
        // when the child's exit unmaps them whole
        bool parentFirst = rng.Next(2) == 0;
        if (child != null && !parentFirst) k.Exit(child);
        Assert.Equal(0, k.Munmap(p, Base, Len));
        if (child != null && parentFirst) k.Exit(child);
        Assert.Empty(InvariantChecker.Check(k));
        states.Add(State(k, p));
        // what the allocator hands out from here on shows the order of its free lists
        var handed = new List<int>();
        for (int order = 4; order >= 0; order--)
            for (int pfn; (pfn = k.Buddy.Alloc(order)) >= 0;) handed.Add(pfn);
        states.Add(string.Join(",", handed));
        return states;
    }

    static string State(Kernel k, MthpSim.Core.Vma.MmStruct mm)
    {
        var mthp = Enumerable.Range(1, k.Geo.PmdOrder).SelectMany(o => Enum.GetValues<MthpStat>().Where(s => s != MthpStat.Count).Select(s => k.Stats.Get(o, s)));
        return string.Join("\n", k.RenderMeminfo(), k.RenderVmstat(), k.RenderBuddyinfo(), string.Join(",", mthp),
            string.Join(",", mm.Rss), string.Join(",", mm.Work.Counts), FreeLists(k),
            string.Join(",", mm.PageTables.Ordered().Select(t => t.Slot.ContBlocks is { } b ? string.Join(".", b) : "-")));
    }

    /// <summary>Every free list as allocations would take from it: the newest entry of each free block first.</summary>
    static string FreeLists(Kernel k)
    {
        var lists = new List<string>();
        for (int order = 0; order <= k.Buddy.MaxOrder; order++)
            foreach (var mt in new[] { MigrateType.Unmovable, MigrateType.Movable, MigrateType.Reclaimable })
            {
                var list = k.Buddy.FreeList(order, mt);
                var seen = new HashSet<int>();
                var valid = new List<int>();
                for (int i = list.Length - 1; i >= 0; i--)
                    if (k.Map.IsFreeHead(list[i], order) && k.Buddy.BlockType(list[i]) == mt && seen.Add(list[i])) valid.Add(list[i]);
                lists.Add($"{order}/{mt}: {string.Join(",", valid)}");
            }
        return string.Join("\n", lists);
    }
}
