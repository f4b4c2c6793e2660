using MthpSim.Core.Shmem;
using Xunit;

namespace MthpSim.Tests.Core;

public class PageCacheTests
{
    [Fact]
    public void A_folio_is_found_from_every_index_it_covers_and_gone_after_removal()
    {
        var c = new PageCache(pmdOrder: 9);
        c.Insert(512, head: 4096, nr: 512);
        c.Insert(16, head: 100, nr: 4);
        Assert.Equal(4096, c.Lookup(512));
        Assert.Equal(4096, c.Lookup(1023));
        Assert.Equal(100, c.Lookup(19));
        Assert.Equal(-1, c.Lookup(20));
        Assert.Equal(-1, c.Lookup(1024));
        Assert.Equal(516, c.Pages);
        c.Remove(512, 512);
        Assert.Equal(-1, c.Lookup(600));
        Assert.Equal(4, c.Pages);
    }

    [Fact]
    public void Folios_and_holes_are_walked_in_index_order_across_chunks()
    {
        var c = new PageCache(pmdOrder: 9);
        c.Insert(2048, head: 7000, nr: 1);
        c.Insert(8, head: 300, nr: 8);
        c.Insert(510, head: 900, nr: 2);
        Assert.Equal(8, c.NextCached(0, 10_000));
        Assert.Equal(510, c.NextCached(16, 10_000));
        Assert.Equal(2048, c.NextCached(512, 10_000));
        Assert.Equal(-1, c.NextCached(512, 2048));
        Assert.Equal(new[] { (8L, 300), (510L, 900), (2048L, 7000) }, c.Folios(0, long.MaxValue, h => h == 300 ? 8 : h == 900 ? 2 : 1));
        Assert.True(c.AnyIn(0, 512));
        Assert.False(c.AnyIn(512, 1024));
    }

    /// <summary>Nodes after settling, with the groups charged and freed (every new node charged to group 7).</summary>
    static (int Nodes, int Charged, int Freed) Settle(PageCache c)
    {
        List<XaNodes.Node>? made = null;
        List<ushort>? freed = null;
        if (c.Nodes.Unsettled) c.SettleNodes(out made, out freed);   // as the kernel settles: only what changed
        foreach (var n in made ?? []) n.Memcg = 7;
        Assert.All(freed ?? [], g => Assert.Equal(7, g));
        Assert.Equal(c.RecountNodes(), c.Nodes.Count);
        return (c.Nodes.Count, made?.Count ?? 0, freed?.Count ?? 0);
    }

    [Theory]
    // a lone order-0 entry at index 0 sits in the xarray's head: no node
    [InlineData(0, 1, 0)]
    // anywhere else, or larger, it needs a leaf (64 slots)
    [InlineData(5, 1, 1)]
    [InlineData(0, 16, 1)]
    // an order-6 entry at 0 covers the whole of a leaf: it needs a node above one (xas_max() counts it as index 64)
    [InlineData(0, 64, 1)]
    // a 2M folio: eight slots of a node of shift 6, no leaf
    [InlineData(0, 512, 1)]
    [InlineData(512, 512, 1)]
    // past index 4095 the root is two levels up: the root and the shift-6 node under it
    [InlineData(4096, 512, 2)]
    [InlineData(4096, 1, 3)]
    public void A_single_entry_needs_the_nodes_the_xarray_makes_for_it(long index, int nr, int nodes)
    {
        var c = new PageCache(pmdOrder: 9);
        c.Insert(index, head: 8192, nr: nr);
        Assert.Equal((nodes, nodes, 0), Settle(c));
        c.Remove(index, nr);
        Assert.Equal((0, 0, nodes), Settle(c));
    }

    [Fact]
    public void Nodes_are_made_and_freed_as_entries_come_and_go_and_an_entry_replaced_in_place_changes_none()
    {
        var c = new PageCache(pmdOrder: 9);
        c.InsertSmallRun(0, pfn: 1000, nr: 512);
        Assert.Equal((9, 9, 0), Settle(c));            // eight leaves and their parent
        c.InsertSwap(64, offset: 40, order: 0);        // a page swapped out: same slot
        Assert.Equal((9, 0, 0), Settle(c));
        c.Remove(64, 1);
        c.Insert(64, head: 3000, nr: 1);               // swapped back in: freed and refilled in one operation
        Assert.Equal((9, 0, 0), Settle(c));
        c.Remove(64, 64);                              // a leaf emptied
        Assert.Equal((8, 0, 1), Settle(c));
        c.Remove(0, 512);                              // the rest: every leaf and the root
        c.Insert(0, head: 4096, nr: 512);              // a collapse's 2M folio in their place
        Assert.Equal((1, 0, 7), Settle(c));            // the root stays: the folio sits in its slots
        c.Insert(0, head: 4096, nr: 1);                // the first page of a split, the rest still the folio's
        for (int i = 1; i < 512; i++) c.Insert(i, head: 4096 + i, nr: 1);
        Assert.Equal((9, 8, 0), Settle(c));            // the split's leaves
        c.Remove(1, 511);                              // all but index 0: the tree shrinks to the head
        Assert.Equal((0, 0, 9), Settle(c));
    }

    [Fact]
    public void An_order_1_folio_at_index_0_split_and_its_second_page_removed_leaves_the_first_in_the_head()
    {
        var c = new PageCache(pmdOrder: 9);
        c.Insert(0, head: 4096, nr: 2);
        Assert.Equal((1, 1, 0), Settle(c));            // xas_max() counts index 0 of order 1 as index 2: a leaf
        c.Insert(0, head: 4096, nr: 1);
        c.Insert(1, head: 4097, nr: 1);
        Assert.Equal((1, 0, 0), Settle(c));
        c.Remove(1, 1);
        Assert.Equal((0, 0, 1), Settle(c));
    }
}

public class ShmemOwnerTableTests
{
    [Fact]
    public void An_owner_is_kept_by_head_until_removed_and_blocks_are_independent()
    {
        var t = new ShmemOwnerTable(totalPages: 4096);
        var a = new ShmemFile(1, "a", null, 9);
        var b = new ShmemFile(2, "b", null, 9);
        t.Set(5, a, 100);
        t.Set(511, b, 7);
        t.Set(512, a, 1L << 40);
        Assert.Equal((a, 100L), t[5]);
        Assert.Equal((b, 7L), t[511]);
        Assert.Equal((a, 1L << 40), t[512]);
        Assert.False(t.Contains(6));
        Assert.Throws<KeyNotFoundException>(() => t[6]);
        Assert.True(t.Remove(511, out var owner));
        Assert.Equal((b, 7L), owner);
        Assert.False(t.Remove(511));
        Assert.True(t.Remove(5));
        Assert.False(t.TryGet(5, out _, out _));   // the block emptied and went; its neighbour is untouched
        Assert.Equal((a, 1L << 40), t[512]);
        t.Set(5, b, 3);                            // a block made again starts empty
        Assert.False(t.Contains(511));
        Assert.Equal((b, 3L), t[5]);
    }
}
