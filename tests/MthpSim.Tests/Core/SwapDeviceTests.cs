using MthpSim.Core.Swap;

namespace MthpSim.Tests.Core;

/// <summary>The swap slot allocator against what mm/swapfile.c does with clusters of 512 slots.</summary>
public class SwapDeviceTests
{
    const int PmdOrder = 9;

    static SwapDevice Zram(long pages) => new(SwapDeviceKind.Zram, pages, PmdOrder);

    [Fact]
    public void Order_zero_starts_after_the_header_in_the_first_cluster_and_goes_on_from_there()
    {
        var si = Zram(4096);
        Assert.Equal(4095, si.Pages);
        Assert.Equal([1, 2, 3], new[] { si.Alloc(0), si.Alloc(0), si.Alloc(0) });
        Assert.Equal(3, si.InUse);
        Assert.Null(si.Check());
    }

    [Theory]
    [InlineData(700, false)]    // a slot given a count behind the allocator's back
    [InlineData(1030, true)]    // a slot the swap cache names, behind the allocator's back (past a vector's worth of the cluster)
    public void Check_counts_every_slot_in_use_against_its_cluster(int offset, bool viaCache)
    {
        var si = Zram(4096);
        si.Alloc(0);
        si.Alloc(4);
        Assert.Null(si.Check());
        si.AddCount(offset, 1);
        if (viaCache)
        {
            // only the swap cache holds it (caching needs a slot in use: counted first, the count dropped after)
            si.SetCache(offset, 7);
            si.AddCount(offset, -1);
        }
        Assert.Equal($"swap cluster {offset >> PmdOrder} counts {(offset >> PmdOrder == 1 ? 16 : 0)} slots, {(offset >> PmdOrder == 1 ? 17 : 1)} are in use", si.Check());
    }

    [Fact]
    public void A_shadow_entry_lasts_while_the_slot_is_referenced_and_uncached()
    {
        var si = Zram(4096);
        int a = si.Alloc(0), b = si.Alloc(0);
        si.SetShadow(a, 1, 5L << 17);
        si.SetShadow(b, 1, 6L << 17);
        Assert.Null(si.Check());
        si.SetCache(a, 7);                 // a folio read back takes the shadow's place
        Assert.Equal(0, si.Shadow(a));
        si.Put(b);                         // the last reference: the slot is freed with its shadow
        Assert.Equal(0, si.Shadow(b));
        Assert.Null(si.Check());
        si.SetShadow(a, 1, 5L << 17);      // a shadow beside a cached folio is what the checker reports
        Assert.Equal($"swap slot {a} has a shadow entry but a folio in the swap cache", si.Check());
    }

    [Fact]
    public void A_large_order_takes_an_aligned_run_in_a_cluster_of_its_own()
    {
        var si = Zram(4096);
        si.Alloc(0);                       // cluster 0 (the header's) becomes order 0's
        int a = si.Alloc(4), b = si.Alloc(4);
        Assert.Equal(512, a);              // a free cluster, from its start
        Assert.Equal(528, b);              // the next aligned run of the same cluster
        Assert.Equal(1024, si.Alloc(9));   // a whole cluster
        Assert.Equal(2, si.Alloc(0));      // order 0 stays in its own cluster
        Assert.Null(si.Check());
    }

    [Fact]
    public void Freed_runs_are_reused_and_an_empty_cluster_goes_back_to_any_order()
    {
        var si = Zram(1024);               // clusters 0 (header) and 1
        int a = si.Alloc(4);
        Assert.Equal(512, a);
        for (int i = 0; i < 16; i++) si.AddCount(a + i, -1);
        si.Free(a, 16);
        Assert.Equal(0, si.InUse);
        Assert.Equal(512, si.Alloc(9));    // the cluster is free again: a PMD-sized run fits
        Assert.Equal(0, si.Alloc(9));      // the header's cluster never holds one
        Assert.Null(si.Check());
    }

    [Fact]
    public void When_no_aligned_run_is_left_large_orders_fail_and_order_zero_still_finds_a_slot()
    {
        var si = Zram(10);                 // 9 usable slots, all in the header's cluster
        Assert.Equal(0, si.Alloc(4));
        Assert.Equal(0, si.Alloc(1));      // order 1 has no cluster of its own either
        var got = Enumerable.Range(0, 10).Select(_ => si.Alloc(0)).ToList();
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 0], got);
        Assert.Equal(9, si.InUse);
        Assert.Null(si.Check());
    }

    [Fact]
    public void A_swap_file_holds_no_large_entries()
    {
        var si = new SwapDevice(SwapDeviceKind.File, 4096, PmdOrder);
        Assert.Equal(0, si.Alloc(4));
        Assert.Equal(1, si.Alloc(0));
    }

    [Fact]
    public void Freeing_a_slot_still_referenced_is_refused()
    {
        var si = Zram(1024);
        int s = si.Alloc(0);
        Assert.Throws<InvalidOperationException>(() => si.Free(s, 1));
        si.Put(s);
        Assert.Equal(0, si.InUse);
        Assert.Throws<InvalidOperationException>(() => si.Put(s));
    }
}
