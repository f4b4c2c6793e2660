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
