using MthpSim.Core.Folio;
using MthpSim.Core.PageAlloc;

namespace MthpSim.Tests.Core;

public class BuddyAllocatorTests
{
    static (MemMap map, BuddyAllocator buddy) Make(long pages, int maxOrder = 10)
    {
        var map = new MemMap(pages);
        return (map, new BuddyAllocator(map, maxOrder, Math.Min(9, maxOrder)));
    }

    [Fact]
    public void Blocks_are_naturally_aligned_and_distinct()
    {
        var (map, buddy) = Make(1 << 14);
        var taken = new HashSet<int>();
        var rng = new Random(7);
        for (int i = 0; i < 500; i++)
        {
            int order = rng.Next(0, 10);
            int pfn = buddy.Alloc(order);
            if (pfn < 0) break;
            Assert.Equal(0, pfn & ((1 << order) - 1));
            map.InitFolio(pfn, order, PageKind.Anon);
            for (int p = pfn; p < pfn + (1 << order); p++) Assert.True(taken.Add(p), $"page {p} handed out twice");
        }
    }

    [Fact]
    public void Freeing_everything_coalesces_back_to_max_order_blocks()
    {
        var (map, buddy) = Make(1 << 13);
        var blocks = new List<(int, int)>();
        var rng = new Random(3);
        while (true)
        {
            int order = rng.Next(0, 5);
            int pfn = buddy.Alloc(order);
            if (pfn < 0) break;
            map.InitFolio(pfn, order, PageKind.Anon);
            blocks.Add((pfn, order));
        }
        Assert.True(buddy.FreePages < 16);
        foreach (var (pfn, order) in blocks.OrderBy(_ => rng.Next()))
        {
            map.ReleaseFolio(pfn);
            buddy.Free(pfn, order);
        }
        Assert.Equal(1 << 13, buddy.FreePages);
        Assert.Equal(8, buddy.NrFree(10));
        for (int o = 0; o < 10; o++) Assert.Equal(0, buddy.NrFree(o));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Freeing_a_run_in_one_call_leaves_what_freeing_it_folio_by_folio_leaves(int seed)
    {
        // Two allocators get the same calls, except that runs of folios at consecutive frames (of
        // order 0, or of any order) go back folio by folio in page order to one and by FreeRun to
        // the other. Their stale list entries differ, so list compaction runs at different times:
        // neither may show in what they hand out next.
        var (mapA, a) = Make(1 << 14);
        var (mapB, b) = Make(1 << 14);
        var rng = new Random(seed);
        var held = new SortedDictionary<int, int>();   // head -> order
        for (int step = 0; step < 4000; step++)
        {
            int what = rng.Next(10);
            if (what < 6)
            {
                int order = rng.Next(6) == 0 ? rng.Next(1, 4) : 0;
                var mt = rng.Next(4) == 0 ? MigrateType.Unmovable : MigrateType.Movable;
                int pa = a.Alloc(order, mt), pb = b.Alloc(order, mt);
                Assert.Equal(pa, pb);
                if (pa < 0) continue;
                mapA.InitFolio(pa, order, PageKind.Anon);
                mapB.InitFolio(pb, order, PageKind.Anon);
                held[pa] = order;
            }
            else if (held.Count > 0)
            {
                // a run of folios at consecutive frames from a random held one: order-0 pages only
                // when it starts with one, folios of any order when it starts with a large one
                int start = held.Keys.ElementAt(rng.Next(held.Count));
                bool small = held[start] == 0;
                int n = 0, limit = rng.Next(1, 1500);
                while (n < limit && held.TryGetValue(start + n, out int o) && (o == 0) == small)
                {
                    mapA.ReleaseFolio(start + n);
                    a.Free(start + n, o);
                    mapB.ReleaseFolio(start + n);
                    held.Remove(start + n);
                    n += 1 << o;
                }
                b.FreeRun(start, n);
            }
            Assert.Equal(a.FreePages, b.FreePages);
            for (int o = 0; o <= 10; o++)
                foreach (var t in new[] { MigrateType.Unmovable, MigrateType.Movable, MigrateType.Reclaimable })
                    Assert.Equal(a.NrFree(o, t), b.NrFree(o, t));
        }
        for (long block = 0; block < a.NrPageblocks; block++) Assert.Equal(a.BlockType(block << a.PageblockOrder), b.BlockType(block << b.PageblockOrder));
        // what each hands out from here on, to the last page, shows the order of every free list
        for (int order = 3; order >= 0; order--)
            while (true)
            {
                int pa = a.Alloc(order), pb = b.Alloc(order);
                Assert.Equal(pa, pb);
                if (pa < 0) break;
                mapA.InitFolio(pa, order, PageKind.Anon);
                mapB.InitFolio(pb, order, PageKind.Anon);
            }
    }

    [Fact]
    public void A_run_over_two_pageblocks_of_different_types_merges_as_page_by_page_frees_do()
    {
        // Page by page, the second pageblock's block merges last and gives the first pageblock its type.
        var results = new List<(MigrateType First, MigrateType Second, long Movable, long Unmovable)>();
        foreach (bool run in new[] { false, true })
        {
            var (map, buddy) = Make(1 << 12);
            for (int i = 0; i < 1 << 12; i++) map.InitFolio(buddy.Alloc(0), 0, PageKind.Anon);
            buddy.SetBlockType(512, MigrateType.Unmovable);
            for (int p = 0; p < 1024; p++) map.ReleaseFolio(p);
            if (run) buddy.FreeRun(0, 1024);
            else for (int p = 0; p < 1024; p++) buddy.Free(p, 0);
            results.Add((buddy.BlockType(0), buddy.BlockType(512), buddy.NrFree(10, MigrateType.Movable), buddy.NrFree(10, MigrateType.Unmovable)));
        }
        Assert.Equal((MigrateType.Unmovable, MigrateType.Unmovable, 0L, 1L), results[0]);
        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public void Allocation_fails_when_no_block_of_the_order_is_left()
    {
        var (map, buddy) = Make(1 << 10);
        int a = buddy.Alloc(9);
        map.InitFolio(a, 9, PageKind.Anon);
        int b = buddy.Alloc(0);
        map.InitFolio(b, 0, PageKind.Anon);
        Assert.Equal(-1, buddy.Alloc(9));
        Assert.True(buddy.Alloc(8) >= 0);
    }

    [Fact]
    public void Same_operations_give_the_same_pfns()
    {
        int[] Run()
        {
            var (map, buddy) = Make(1 << 12);
            var got = new List<int>();
            for (int i = 0; i < 40; i++)
            {
                int pfn = buddy.Alloc(i % 4);
                map.InitFolio(pfn, i % 4, PageKind.Anon);
                got.Add(pfn);
                if (i % 3 == 0) { map.ReleaseFolio(pfn); buddy.Free(pfn, i % 4); }
            }
            return got.ToArray();
        }
        Assert.Equal(Run(), Run());
    }
}
