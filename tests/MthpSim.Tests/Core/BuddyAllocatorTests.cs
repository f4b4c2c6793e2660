using FsCheck.Xunit;
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

    /// <summary>
    /// AllocRun against the allocations of its order it stands for (order 0, as AllocSmallRun, and
    /// the orders of mTHP sizes), after a random history of allocations (movable and unmovable, so
    /// that some runs stop where a claim is needed) and frees: the same frames, then the same answers
    /// to every later allocation and the same free counts.
    /// </summary>
    [Property(MaxTest = 300, EndSize = 300, Replay = "(20261206,1)")]
    public void A_run_is_allocations_of_its_order_one_by_one((byte Order, bool Unmovable, bool Free)[] history, byte runLength, byte runOrder)
    {
        var (mapA, a) = Make(1 << 12);
        var (mapB, b) = Make(1 << 12);
        var heldA = new List<(int, int)>();
        var heldB = new List<(int, int)>();
        void Step(byte order, bool unmovable, bool free)
        {
            var mt = unmovable ? MigrateType.Unmovable : MigrateType.Movable;
            if (free && heldA.Count > 0)
            {
                int k = order % heldA.Count;
                var (pa, oa) = heldA[k];
                var (pb, ob) = heldB[k];
                heldA.RemoveAt(k);
                heldB.RemoveAt(k);
                mapA.ReleaseFolio(pa); a.Free(pa, oa);
                mapB.ReleaseFolio(pb); b.Free(pb, ob);
                return;
            }
            int o = order % 6;
            int x = a.Alloc(o, mt), y = b.Alloc(o, mt);
            Assert.Equal(x, y);
            if (x < 0) return;
            mapA.InitFolio(x, o, PageKind.Anon); heldA.Add((x, o));
            mapB.InitFolio(y, o, PageKind.Anon); heldB.Add((y, o));
        }
        foreach (var (order, unmovable, free) in history) Step(order, unmovable, free);

        int k = runOrder % 5;
        var run = new int[runLength];
        int got = k == 0 ? a.AllocSmallRun(run) : a.AllocRun(k, run);
        for (int i = 0; i < got; i++)
        {
            Assert.Equal(b.Alloc(k), run[i]);
            mapA.InitFolio(run[i], k, PageKind.Anon); heldA.Add((run[i], k));
            mapB.InitFolio(run[i], k, PageKind.Anon); heldB.Add((run[i], k));
        }
        foreach (var (order, unmovable, free) in history.Reverse()) Step(order, unmovable, !free);
        Assert.Equal(b.FreePages, a.FreePages);
        for (int o = 0; o <= 10; o++)
            foreach (var mt in new[] { MigrateType.Unmovable, MigrateType.Movable })
                Assert.Equal(b.NrFree(o, mt), a.NrFree(o, mt));
    }

    [Fact]
    public void A_small_run_takes_a_split_block_in_ascending_order_and_stops_at_the_type_s_end()
    {
        var (map, buddy) = Make(1 << 12);
        var run = new int[40];
        Assert.Equal(40, buddy.AllocSmallRun(run));
        Assert.Equal(Enumerable.Range(0, 40), run);
        // the rest of the first 1024-page block in the pieces expand() would have left: [40, 48), [48, 64), [64, 128) ...
        Assert.Equal((1 << 12) - 40, buddy.FreePages);
        int[] expected = [0, 0, 0, 1, 1, 0, 1, 1, 1, 1];
        for (int o = 0; o < 10; o++) Assert.Equal(expected[o], buddy.NrFree(o));
        // mobility grouping on: unmovable pages are claimed from a movable block, never by a run
        var unmovable = new int[4];
        Assert.Equal(0, buddy.AllocSmallRun(unmovable, MigrateType.Unmovable));
    }
}
