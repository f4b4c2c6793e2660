using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Debug;
using MthpSim.Core.Folio;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>
/// PageAnonExclusive of a PMD-mapped THP lives on its head page alone (folio_add_new_anon_rmap(),
/// __folio_try_dup_anon_rmap() at the PMD level); splitting the PMD gives it to every page when the
/// head has it, and to none otherwise (__split_huge_pmd_locked()).
/// </summary>
public class AnonExclusivePmdTests
{
    const ulong Base = 0x40000000, Mb2 = 2 << 20, Page = 0x1000;

    static (Kernel K, MmStruct P, int Head) PmdMapped()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", "always"));
        var p = k.CreateProcess("p");
        Assert.Equal((long)Base, k.Mmap(p, Base, Mb2, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(p, Base, Base + Mb2, write: true));
        int head = k.ResolvePfn(p, Base, out var kind);
        Assert.Equal(MappingKind.PmdPage, kind);
        return (k, p, head);
    }

    static int Exclusive(Kernel k, int head)
    {
        int n = 0;
        for (int i = 0; i < 512; i++) if (k.Map.Test(head + i, PageFlags.AnonExclusive)) n++;
        return n;
    }

    [Fact]
    public void A_new_PMD_mapping_is_exclusive_through_its_head_and_a_split_gives_that_to_every_page()
    {
        var (k, p, head) = PmdMapped();
        Assert.True(k.Map.Test(head, PageFlags.AnonExclusive));
        Assert.Equal(1, Exclusive(k, head));
        // mprotect of one page splits the PMD: every page is exclusive, so a write reuses its page
        Assert.Equal(0, k.Mprotect(p, Base + Page, Page, Prot.Read));
        Assert.Equal(0, k.Mprotect(p, Base + Page, Page, Prot.Read | Prot.Write));
        Assert.Equal(512, Exclusive(k, head));
        Assert.Equal(0, k.Access(p, Base + 5 * Page, Base + 6 * Page, write: true));
        Assert.Equal(head + 5, k.ResolvePfn(p, Base + 5 * Page, out _));
        Assert.True(k.Intact(p, Base, Base + Mb2));
        Assert.Empty(InvariantChecker.Check(k));
    }

    [Fact]
    public void Fork_clears_the_head_and_a_split_after_it_leaves_every_page_shared()
    {
        var (k, p, head) = PmdMapped();
        var c = k.Fork(p, "c")!;
        Assert.Equal(0, Exclusive(k, head));
        Assert.Equal(0, k.Mprotect(p, Base + Page, Page, Prot.Read));
        Assert.Equal(0, Exclusive(k, head));
        // a write in the parent now copies the page (wp_page_copy()): the child keeps the old one
        Assert.Equal(0, k.Access(p, Base + 5 * Page, Base + 6 * Page, write: true));
        Assert.NotEqual(head + 5, k.ResolvePfn(p, Base + 5 * Page, out _));
        Assert.Equal(head + 5, k.ResolvePfn(c, Base + 5 * Page, out _));
        Assert.True(k.Intact(p, Base, Base + Mb2));
        Assert.True(k.Intact(c, Base, Base + Mb2));
        Assert.Empty(InvariantChecker.Check(k));
    }

    [Fact]
    public void A_write_that_reuses_a_PMD_mapping_makes_its_head_exclusive_again()
    {
        var (k, p, head) = PmdMapped();
        k.Exit(k.Fork(p, "c")!);
        Assert.Equal(0, Exclusive(k, head));
        // do_huge_pmd_wp_page(): the only reference left, so the THP is reused where it is
        Assert.Equal(0, k.Access(p, Base, Base + Page, write: true));
        Assert.Equal(head, k.ResolvePfn(p, Base, out var kind));
        Assert.Equal(MappingKind.PmdPage, kind);
        Assert.Equal(1, Exclusive(k, head));
        Assert.Equal(0, k.Mprotect(p, Base + Page, Page, Prot.Read));
        Assert.Equal(512, Exclusive(k, head));
        Assert.True(k.Intact(p, Base, Base + Mb2));
        Assert.Empty(InvariantChecker.Check(k));
    }
}
