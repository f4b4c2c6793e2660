using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Cost;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>The kernel work the cost model charges: counted where the kernel does it, per process and operation.</summary>
public class KernelWorkTests
{
    const ulong Base = 0x40000000, Len = 8UL << 20;

    /// <summary>A process with <see cref="Len"/> written in folios of <paramref name="sizeKb"/> (4: order 0, 2048: PMD THPs).</summary>
    static (Kernel K, MmStruct Mm) Written(int sizeKb)
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", sizeKb == 2048 ? "always" : "never"));
        if (sizeKb is not (4 or 2048)) Assert.Equal(0, k.SysfsWrite($"hugepages-{sizeKb}kB/enabled", "always"));
        var mm = k.CreateProcess("p");
        Assert.Equal((long)Base, k.Mmap(mm, Base, Len, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(mm, Base, Base + Len, write: true));
        return (k, mm);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(2048)]
    public void A_write_fault_loop_counts_one_fault_one_allocation_and_one_set_ptes_per_folio(int sizeKb)
    {
        var (_, mm) = Written(sizeKb);
        long pages = (long)Len / 4096, folios = pages / (sizeKb / 4);
        var w = mm.Work;
        Assert.Equal(folios, w[CostOp.Fault, KernelWork.Faults]);
        Assert.Equal(folios, w[CostOp.Fault, KernelWork.FolioAllocs]);
        Assert.Equal(pages, w[CostOp.Fault, KernelWork.PagesZeroed]);
        Assert.Equal(folios, w[CostOp.Fault, KernelWork.PteBatches]);
        // a PMD mapping is one entry, and one rmap update without per-page mapcounts
        Assert.Equal(sizeKb == 2048 ? folios : pages, w[CostOp.Fault, KernelWork.Ptes]);
        Assert.Equal(folios, w[CostOp.Fault, KernelWork.RmapFolios]);
        Assert.Equal(sizeKb == 2048 ? 0 : pages, w[CostOp.Fault, KernelWork.RmapPages]);
        // a table per 2M, or the deposit under each PMD; and the PUD and PMD pages of the first fault (a fresh 1G)
        Assert.Equal((long)(Len >> 21) + 2, w[CostOp.Fault, KernelWork.PageTableAllocs]);
        Assert.Equal(0, w[CostOp.Fork, KernelWork.Faults]);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(2048)]
    public void Fork_copies_one_batch_per_folio_as_folio_pte_batch_makes_them(int sizeKb)
    {
        var (k, mm) = Written(sizeKb);
        var child = k.Fork(mm, "c")!;
        long pages = (long)Len / 4096, folios = pages / (sizeKb / 4);
        var w = mm.Work;
        Assert.Equal(1, w[CostOp.Fork, KernelWork.Forks]);
        Assert.Equal(folios, w[CostOp.Fork, KernelWork.ForkBatches]);
        Assert.Equal(sizeKb == 2048 ? folios : pages, w[CostOp.Fork, KernelWork.ForkPtes]);
        Assert.Equal(folios, w[CostOp.Fork, KernelWork.RmapFolios]);
        Assert.Equal((long)(Len >> 21) + 2, w[CostOp.Fork, KernelWork.PageTableAllocs]);   // the child's PUD and PMD pages too
        Assert.Equal(1, w[CostOp.Fork, KernelWork.TlbFlushes]);
        // the child's tables are the parent's work: fork runs in the parent
        Assert.Equal(0, child.Work.Total(KernelWork.ForkBatches));
    }

    [Fact]
    public void A_batch_ends_where_the_folio_does()
    {
        // A 64K folio whose upper half was copied on write: its lower half is one batch, each copy one more.
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        Assert.Equal(0, k.SysfsWrite("hugepages-64kB/enabled", "always"));
        var mm = k.CreateProcess("p");
        k.Mmap(mm, Base, 64 << 10, Prot.Read | Prot.Write);
        Assert.Equal(0, k.Access(mm, Base, Base + 4096, write: true));
        var first = k.Fork(mm, "c1")!;
        Assert.Equal(0, k.Access(mm, Base + (32 << 10), Base + (64 << 10), write: true));
        Assert.Equal(8, mm.Work[CostOp.Cow, KernelWork.PagesCopied]);
        k.Exit(first);
        long before = mm.Work[CostOp.Fork, KernelWork.ForkBatches];
        k.Fork(mm, "c2");
        Assert.Equal(1 + 8, mm.Work[CostOp.Fork, KernelWork.ForkBatches] - before);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(64)]
    [InlineData(2048)]
    public void Munmap_zaps_one_batch_per_folio_frees_every_page_and_flushes_once(int sizeKb)
    {
        var (k, mm) = Written(sizeKb);
        Assert.Equal(0, k.Munmap(mm, Base, Len));
        long pages = (long)Len / 4096, folios = pages / (sizeKb / 4);
        var w = mm.Work;
        Assert.Equal(folios, w[CostOp.Munmap, KernelWork.ZapBatches]);
        Assert.Equal(sizeKb == 2048 ? folios : pages, w[CostOp.Munmap, KernelWork.ZapPtes]);
        Assert.Equal(folios, w[CostOp.Munmap, KernelWork.FolioFrees]);
        Assert.Equal(pages, w[CostOp.Munmap, KernelWork.PagesFreed]);
        Assert.Equal((long)(Len >> 21) + 2, w[CostOp.Munmap, KernelWork.PageTableFrees]);   // no VMA is left under the PMD and PUD pages
        Assert.Equal(1, w[CostOp.Munmap, KernelWork.TlbFlushes]);
    }

    [Fact]
    public void A_write_after_fork_is_charged_to_cow_with_its_copy_and_flush_and_exit_to_exit()
    {
        var (k, mm) = Written(4);
        var child = k.Fork(mm, "c")!;
        Assert.Equal(0, k.Access(child, Base, Base + 4096 * 3, write: true));
        var w = child.Work;
        Assert.Equal(3, w[CostOp.Cow, KernelWork.PagesCopied]);
        Assert.Equal(3, w[CostOp.Cow, KernelWork.TlbFlushes]);
        Assert.Equal(3, w[CostOp.Cow, KernelWork.FolioAllocs]);
        Assert.Equal(3, w[CostOp.Fault, KernelWork.Faults]);   // the fault itself is the fault's
        k.Exit(child);
        Assert.Equal((long)Len / 4096, child.Work[CostOp.Exit, KernelWork.ZapPtes]);
        Assert.Equal(3, child.Work[CostOp.Exit, KernelWork.FolioFrees]);   // only its own copies go back
        Assert.Equal(1, child.Work[CostOp.Exit, KernelWork.TlbFlushes]);
    }

    [Fact]
    public void The_estimate_is_each_unit_times_its_constant()
    {
        var (k, mm) = Written(64);
        var ns = new double[KernelWorkNames.Count];
        ns[(int)KernelWork.Faults] = 1000;
        ns[(int)KernelWork.PagesZeroed] = 10;
        k.CostModel = new KernelCostModel(ns);
        long folios = (long)Len / (64 << 10);
        Assert.Equal(folios * 1000 + folios * 16 * 10, k.CostNs(mm), 6);
        Assert.Equal(folios * 1000 + folios * 16 * 10, k.CostNs(mm, CostOp.Fault), 6);
        Assert.Equal(0, k.CostNs(mm, CostOp.Fork));
    }

    [Fact]
    public void Two_machines_count_apart_and_a_process_s_work_is_its_own()
    {
        var (k1, mm1) = Written(4);
        var (k2, mm2) = Written(4);
        var other = k1.CreateProcess("q");
        Assert.Equal(0, k1.Munmap(mm1, Base, Len));
        Assert.Equal((long)Len / 4096, mm1.Work[CostOp.Munmap, KernelWork.ZapPtes]);
        Assert.Equal(0, mm2.Work.Total(KernelWork.ZapPtes));
        Assert.Equal(0, other.Work.Total(KernelWork.ZapPtes));
        Assert.Equal(0, k1.KernelThreadsWork.Total(KernelWork.ZapPtes));
        Assert.Equal(0, k2.KernelThreadsWork.Total(KernelWork.ZapPtes));
    }

    [Fact]
    public void A_cost_model_refuses_a_wrong_number_of_constants_or_a_negative_one()
    {
        Assert.Throws<ArgumentException>(() => new KernelCostModel([1.0, 2.0]));
        var ns = new double[KernelWorkNames.Count];
        ns[3] = -1;
        Assert.Throws<ArgumentException>(() => new KernelCostModel(ns));
    }

    [Fact]
    public void Every_unit_and_operation_has_one_name_that_parses_back()
    {
        Assert.Equal(KernelWorkNames.Count, KernelWorkNames.All.Count);
        Assert.Equal(CostOpNames.Count, CostOpNames.All.Count);
        foreach (var unit in Enum.GetValues<KernelWork>())
            Assert.True(KernelWorkNames.TryParse(KernelWorkNames.Name(unit), out var back) && back == unit);
        foreach (var op in Enum.GetValues<CostOp>())
            Assert.True(CostOpNames.TryParse(CostOpNames.Name(op), out var back) && back == op);
        Assert.False(KernelWorkNames.TryParse("fork_batch", out _));
        Assert.False(CostOpNames.TryParse("forks", out _));
    }
}
