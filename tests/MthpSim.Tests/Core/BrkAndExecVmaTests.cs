using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Debug;
using MthpSim.Core.Vma;
using Xunit;

namespace MthpSim.Tests.Core;

/// <summary>brk(), VM_EXEC on mappings, and khugepaged on a machine with other processes: what trace replay needed of the model.</summary>
public class BrkAndExecVmaTests
{
    const ulong Bss = 0x555555557000, Heap = 0x555555559000;

    static Kernel Machine() => new(MachineConfig.Default with { MemoryBytes = 1L << 30 });

    static void Clean(Kernel k) => Assert.Empty(InvariantChecker.Check(k));

    [Fact]
    public void The_first_growth_makes_a_heap_VMA_beside_the_bss_and_later_ones_extend_it()
    {
        var k = Machine();
        var mm = k.CreateProcess("p");
        Assert.Equal((long)Bss, k.Mmap(mm, Bss, Heap - Bss, Prot.Read | Prot.Write));
        k.SetBrkStart(mm, Heap);
        Assert.Equal((long)Heap + 0x21000, k.Brk(mm, Heap + 0x21000));
        Assert.Equal((long)Heap + 0x42000, k.Brk(mm, Heap + 0x42000));
        Assert.Equal([(Bss, Heap), (Heap, Heap + 0x42000)], mm.Vmas.Select(v => (v.Start, v.End)));
        Assert.Equal(0, k.Access(mm, Heap, Heap + 0x42000, write: true));
        Clean(k);
        // shrinking unmaps what is above the new break (rounded up to a page)
        Assert.Equal((long)Heap + 0x10800, k.Brk(mm, Heap + 0x10800));
        Assert.Equal(Heap + 0x11000, mm.Vmas.Last().End);
        Assert.Equal(0x11, mm.Rss[(int)RssMember.AnonPages]);
        Clean(k);
    }

    [Fact]
    public void A_break_below_its_start_or_into_a_mapping_is_refused_and_the_old_one_returned()
    {
        var k = Machine();
        var mm = k.CreateProcess("p");
        k.SetBrkStart(mm, Heap);
        Assert.Equal((long)Heap, k.Brk(mm, Heap - 0x1000));
        Assert.Equal((long)Heap + 0x4000, k.Mmap(mm, Heap + 0x4000, 0x1000, Prot.Read));
        Assert.Equal((long)Heap, k.Brk(mm, Heap + 0x8000));
        Assert.Equal((long)Heap + 0x2000, k.Brk(mm, Heap + 0x2000));   // leaves a page free below the mapping
        Assert.Equal((long)Heap + 0x2000, k.Brk(mm, Heap + 0x3800));
        Clean(k);
    }

    [Fact]
    public void Mappings_differing_in_exec_stay_apart_so_fault_around_stops_between_them()
    {
        var k = Machine();
        var mm = k.CreateProcess("p");
        k.TmpfsMount("never", null, out var mount);
        var f = k.CreateFile("lib.so", mount!, 64 << 12);
        Assert.Equal(64L << 12, k.Pwrite(f, 0, 64 << 12));
        const ulong at = 0x7ffff0000000;
        Assert.Equal((long)at, k.MmapShmem(mm, at, 8 << 12, Prot.Read, f, 0, shared: false));
        Assert.Equal((long)at + (8 << 12), k.MmapShmem(mm, at + (8 << 12), 24 << 12, Prot.Read | Prot.Exec, f, 8 << 12, shared: false));
        Assert.Equal(2, mm.Vmas.Count());
        // a fault in the first maps up to its end only (fault-around is clamped to the VMA)
        Assert.Equal(0, k.Access(mm, at, at + 1, write: false));
        Assert.Equal(8, mm.Rss[(int)RssMember.ShmemPages]);
        Assert.Contains("r-xp", k.RenderSmaps(mm.Vmas));
        // mprotect to the same protection lets them merge
        Assert.Equal(0, k.Mprotect(mm, at + (8 << 12), 24 << 12, Prot.Read));
        Assert.Single(mm.Vmas);
        Clean(k);
    }

    [Fact]
    public void With_other_processes_registered_a_new_mm_does_not_wake_khugepaged_before_its_sleep_ends()
    {
        var k = Machine();
        Assert.Equal(0, k.SysfsWrite("enabled", "always"));
        k.KhugepagedBusyElsewhere();
        var mm = k.CreateProcess("p");
        const ulong at = 0x7ffff0000000;
        Assert.Equal((long)at, k.Mmap(mm, at, 4UL << 20, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Madvise(mm, at, 4UL << 20, MadviseAdvice.Nohugepage));
        Assert.Equal(0, k.Access(mm, at, at + 1, write: true));
        Assert.Equal(0, k.Madvise(mm, at, 4UL << 20, MadviseAdvice.Hugepage));   // registers the mm
        k.Sleep(9_999);
        Assert.Equal(0, k.Stats.Get(MthpSim.Core.Stats.VmEvent.ThpCollapseAlloc));
        k.Sleep(1);
        Assert.Equal(1, k.Stats.Get(MthpSim.Core.Stats.VmEvent.ThpCollapseAlloc));
        Clean(k);
    }
}
