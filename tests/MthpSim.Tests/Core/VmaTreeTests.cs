using FsCheck.Xunit;
using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>The ordered VMA tree against a naive sorted-list model, and the rule that only the tree moves a linked VMA.</summary>
public class VmaTreeTests
{
    // Fixed seed: the same sequences every run. Small spaces make the tree fill, empty and collide.
    [Property(MaxTest = 300, EndSize = 400, Replay = "(20261202,1)")]
    public void Random_operations_agree_with_a_sorted_list((byte Kind, byte A, ushort B)[] ops, bool small)
    {
        var model = new VmaTreeModel(small ? 24 : 160);
        foreach (var (kind, a, b) in ops) model.Step(kind, a, b);
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 512)]
    [InlineData(3, 4096)]
    public void Long_seeded_sequences_agree_with_a_sorted_list(int seed, int pages)
    {
        // Deep trees: thousands of VMAs, so rotations at every level and long successor walks happen.
        var rng = new Random(seed);
        var model = new VmaTreeModel(pages);
        for (int i = 0; i < 6000; i++)
        {
            // Bias towards inserts early on so that the tree grows before it shrinks.
            int kind = i < 3000 && rng.Next(3) == 0 ? 0 : rng.Next(10);
            model.Step(kind, rng.Next(1 << 16), rng.Next(1 << 16));
        }
    }

    [Fact]
    public void A_linked_VMA_moves_only_through_the_tree()
    {
        var tree = new VmaTree();
        var vma = new Vma { Start = 0x10000, End = 0x20000 };
        tree.Insert(vma);
        Assert.Throws<InvalidOperationException>(() => vma.End = 0x30000);
        Assert.Throws<InvalidOperationException>(() => vma.Start = 0x8000);
        tree.SetRange(vma, 0x10000, 0x30000);
        Assert.Equal(0x30000UL, vma.End);
        var copy = vma.Clone();
        copy.Start = 0x40000;   // a copy is in no tree until inserted
        copy.End = 0x50000;
        tree.Insert(copy);
        Assert.Throws<InvalidOperationException>(() => tree.SetRange(vma, 0x10000, 0x48000));
        Assert.Throws<InvalidOperationException>(() => tree.Insert(new Vma { Start = 0x2f000, End = 0x31000 }));
        Assert.Throws<InvalidOperationException>(() => tree.Insert(new Vma { Start = 0x3f000, End = 0x41000 }));
        tree.Remove(vma);
        vma.End = 0x60000;      // removed: free to change again
        Assert.Empty(tree.Validate());
    }

    [Fact]
    public void Validate_reports_a_wrong_neighbour_link_and_a_rank_not_above_a_child()
    {
        static (VmaTree, Vma[]) Tree()
        {
            var tree = new VmaTree();
            var vmas = Enumerable.Range(0, 20).Select(i => new Vma { Start = 0x10000UL * (ulong)(i + 1), End = 0x10000UL * (ulong)(i + 1) + 0x1000 }).ToArray();
            foreach (var v in vmas) tree.Insert(v);
            foreach (var v in vmas.Take(5)) tree.Remove(v);   // removals do not rebalance: the rules must still hold
            Assert.Empty(tree.Validate());
            return (tree, vmas);
        }

        var (t1, v1) = Tree();
        v1[10].VmNext = v1[12];   // skips a VMA
        Assert.Contains(t1.Validate(), e => e.Contains("links to the VMA before it"));

        var (t2, v2) = Tree();
        var parent = v2.Skip(5).First(v => v.Left != null || v.Right != null);
        parent.Rank = (parent.Left ?? parent.Right)!.Rank;
        Assert.Contains(t2.Validate(), e => e.Contains("is not above its children's"));

        var (t3, v3) = Tree();
        var leaf = v3.Skip(5).First(v => v.Left == null && v.Right == null);
        leaf.Rank = 1;
        Assert.Contains(t3.Validate(), e => e.Contains("a leaf of rank 1"));
    }

    [Fact]
    public void Enumerating_while_the_tree_changes_fails()
    {
        var tree = new VmaTree();
        for (ulong i = 0; i < 4; i++) tree.Insert(new Vma { Start = 0x10000 * (i + 1), End = 0x10000 * (i + 1) + 0x1000 });
        Assert.Throws<InvalidOperationException>(() => { foreach (var v in tree) tree.Remove(v); });
    }

    [Fact]
    public void Mmap_any_places_top_down_below_mmap_base_with_PMD_alignment()
    {
        // Pins the placement rules the tree search must keep: directly below mmap_base, below the
        // previous mapping, and PMD-aligned for PMD multiples.
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 64L << 20 });
        var mm = k.CreateProcess("p");
        ulong pmd = (ulong)k.Geo.PmdSize;
        long a = k.Mmap(mm, null, 0x3000, Prot.Read);
        Assert.Equal((long)(k.MmapBase - 0x3000), a);
        long b = k.Mmap(mm, null, 0x1000, Prot.Read | Prot.Write);
        Assert.Equal(a - 0x1000, b);
        long c = k.Mmap(mm, null, pmd, Prot.Read);
        Assert.Equal(0UL, (ulong)c % pmd);
        Assert.True((ulong)c + pmd <= (ulong)b);
        Assert.Equal(0, k.Munmap(mm, (ulong)b, 0x1000));
        Assert.Equal(b, k.Mmap(mm, null, 0x1000, Prot.Read | Prot.Write));   // the hole is reused
        Assert.Empty(mm.Vmas.Validate());
    }
}
