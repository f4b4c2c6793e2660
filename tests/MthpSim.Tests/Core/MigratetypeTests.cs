using MthpSim.Core.Folio;
using MthpSim.Core.PageAlloc;

namespace MthpSim.Tests.Core;

/// <summary>The 6.18 migratetype rules of mm/page_alloc.c: fallbacks, whole-block claims, steals, merges.</summary>
public class MigratetypeTests
{
    // 64M: 32 pageblocks of 512 pages, 16 free blocks of order 10.
    static (MemMap map, BuddyAllocator buddy) Make(long pages = 1 << 14)
    {
        var map = new MemMap(pages);
        return (map, new BuddyAllocator(map, 10, 9));
    }

    static int Take(MemMap map, BuddyAllocator buddy, int order, MigrateType mt, PageKind kind = PageKind.Anon)
    {
        int pfn = buddy.Alloc(order, mt);
        Assert.True(pfn >= 0, $"no block of order {order} for {mt}");
        map.InitFolio(pfn, order, kind);
        return pfn;
    }

    /// <summary>Free pages on one migratetype's lists, every order.</summary>
    static long FreePagesOf(BuddyAllocator buddy, MigrateType mt) =>
        Enumerable.Range(0, 11).Sum(o => (long)buddy.NrFree(o, mt) << o);

    static void Give(MemMap map, BuddyAllocator buddy, int pfn)
    {
        int order = map.Order(pfn);
        map.ReleaseFolio(pfn);
        buddy.Free(pfn, order);
    }

    [Fact]
    public void Every_pageblock_starts_movable_and_an_unmovable_allocation_claims_a_whole_free_block()
    {
        var (map, buddy) = Make();
        Assert.All(Enumerable.Range(0, 32), b => Assert.Equal(MigrateType.Movable, buddy.BlockType(b * 512)));
        Assert.Equal(0, Take(map, buddy, 0, MigrateType.Movable));
        // ALLOC_NOFRAGMENT: the largest free block of the fallback type, claimed whole (both its pageblocks).
        int u = Take(map, buddy, 0, MigrateType.Unmovable, PageKind.PageTable);
        Assert.Equal(1024, u);
        Assert.Equal(MigrateType.Unmovable, buddy.BlockType(1024));
        Assert.Equal(MigrateType.Unmovable, buddy.BlockType(1536));
        Assert.Equal(MigrateType.Movable, buddy.BlockType(0));
        // The next unmovable page comes from that block's free pages, not from another movable block.
        Assert.Equal(1025, Take(map, buddy, 0, MigrateType.Unmovable, PageKind.PageTable));
        Assert.Equal(new long[] { 2, 30, 0, 0, 0 }, buddy.BlockCounts());
    }

    /// <summary>Fills every page with movable order-0 folios, then frees FREED pages at the start of pageblock BLOCK.</summary>
    static (MemMap, BuddyAllocator) FullExcept(int block, int freed)
    {
        var (map, buddy) = Make();
        for (int i = 0; i < 1 << 14; i++) Take(map, buddy, 0, MigrateType.Movable);
        for (int p = block * 512; p < block * 512 + freed; p++) Give(map, buddy, p);
        return (map, buddy);
    }

    [Fact]
    public void A_small_unmovable_request_claims_a_movable_block_that_is_at_least_half_free()
    {
        var (map, buddy) = FullExcept(block: 5, freed: 256);
        int u = Take(map, buddy, 0, MigrateType.Unmovable, PageKind.PageTable);
        Assert.InRange(u, 5 * 512, 5 * 512 + 255);
        Assert.Equal(MigrateType.Unmovable, buddy.BlockType(5 * 512));
        Assert.Equal(255, FreePagesOf(buddy, MigrateType.Unmovable));
    }

    [Fact]
    public void With_less_than_half_free_the_unmovable_page_is_stolen_and_the_block_stays_movable()
    {
        var (map, buddy) = FullExcept(block: 5, freed: 255);
        int u = Take(map, buddy, 0, MigrateType.Unmovable, PageKind.PageTable);
        Assert.InRange(u, 5 * 512, 5 * 512 + 254);
        Assert.Equal(MigrateType.Movable, buddy.BlockType(5 * 512));
        Assert.Equal(0, buddy.NrFree(0, MigrateType.Unmovable));
        // __rmqueue_steal() takes the smallest fallback block: the order-0 piece... here the free
        // run is 255 pages (orders 7..0), so the order-0 page at its end goes first.
        Assert.Equal(5 * 512 + 254, u);
    }

    [Fact]
    public void A_small_movable_request_steals_from_a_mostly_used_unmovable_block_without_claiming_it()
    {
        var (map, buddy) = Make();
        for (int i = 0; i < 300; i++) Assert.InRange(Take(map, buddy, 0, MigrateType.Unmovable, PageKind.PageTable), 0, 511);
        // Use up the movable memory: on the way, the unmovable claim's free second pageblock
        // (order 9) is claimed back whole by a movable request.
        int p;
        while ((p = Take(map, buddy, 0, MigrateType.Movable)) >= 512) { }
        Assert.Equal(MigrateType.Movable, buddy.BlockType(512));
        // Block 0 has 212 free pages: too few to claim (256), so the page is stolen from it.
        Assert.InRange(p, 300, 511);
        Assert.Equal(MigrateType.Unmovable, buddy.BlockType(0));
    }

    [Fact]
    public void A_movable_request_of_order_4_or_more_claims_a_mostly_free_unmovable_block()
    {
        var (map, buddy) = Make();
        Take(map, buddy, 0, MigrateType.Unmovable, PageKind.PageTable);          // claims 0..1023 (two pageblocks)
        for (int i = 0; i < (1 << 14) - 1024; i += 16) Take(map, buddy, 4, MigrateType.Movable);   // every movable block used
        int m = Take(map, buddy, 4, MigrateType.Movable);
        Assert.InRange(m, 0, 1023);
        Assert.Equal(MigrateType.Movable, buddy.BlockType(m));
    }

    [Fact]
    public void Freeing_above_pageblock_order_gives_the_merged_buddy_the_freed_blocks_type()
    {
        var (map, buddy) = Make();
        int pt = Take(map, buddy, 0, MigrateType.Unmovable, PageKind.PageTable);   // 0..1023 unmovable
        int mv = Take(map, buddy, 9, MigrateType.Movable);                         // 1024..1535
        Assert.Equal(1024, mv);
        Give(map, buddy, pt);   // pageblocks 0 and 1 merge back into one free order-10 unmovable block
        Assert.Equal(1, buddy.NrFree(10, MigrateType.Unmovable));
        Give(map, buddy, mv);   // 1024..1535 (movable) merges with 1536..2047 (movable): order 10
        Assert.Equal(MigrateType.Movable, buddy.BlockType(1024));
        Assert.Equal(MigrateType.Unmovable, buddy.BlockType(0));
    }

    [Fact]
    public void Mobility_grouping_is_off_below_pageblock_size_times_the_number_of_types()
    {
        var (map, small) = Make(2048);
        Assert.True(small.MobilityDisabled);
        Assert.Equal(MigrateType.Unmovable, small.BlockType(0));
        Assert.Equal(0, Take(map, small, 0, MigrateType.Movable));
        Assert.Equal(MigrateType.Unmovable, small.BlockType(0));
        Assert.False(Make(2560).buddy.MobilityDisabled);
    }

    [Fact]
    public void A_page_taken_at_a_chosen_frame_leaves_the_rest_of_its_block_free_on_its_type()
    {
        var (map, buddy) = Make();
        Assert.True(buddy.TakeFreePage(3000));
        map.InitFolio(3000, 0, PageKind.KernelPage);
        Assert.False(buddy.TakeFreePage(3000));
        Assert.Equal((1 << 14) - 1, buddy.FreePages);
        Assert.Equal(MigrateType.Movable, buddy.BlockType(3000));
        Assert.Equal(1L, buddy.NrFree(0, MigrateType.Movable));
    }
}
