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
