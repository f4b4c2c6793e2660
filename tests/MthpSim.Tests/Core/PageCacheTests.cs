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
