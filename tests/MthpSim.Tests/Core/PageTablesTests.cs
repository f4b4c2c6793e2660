using MthpSim.Core.PageTable;

namespace MthpSim.Tests.Core;

/// <summary>The radix tree of PMD slots against a plain map of the same operations.</summary>
public class PageTablesTests
{
    [Fact]
    public void Lookups_walks_and_range_tests_agree_with_a_sorted_map()
    {
        var pt = new PageTables();
        var model = new SortedDictionary<long, PmdSlot>();
        var rng = new Random(5);
        // indexes spread over several top-level entries (one per 2^18 PMDs) and many leaves
        long[] pool = Enumerable.Range(0, 400).Select(_ => (long)rng.Next(0, 1 << 22)).Concat([0, 511, 512, (1 << 18) - 1, 1 << 18]).ToArray();
        for (int step = 0; step < 5000; step++)
        {
            long i = pool[rng.Next(pool.Length)];
            if (rng.Next(3) == 0) { pt.Remove(i); model.Remove(i); }
            else
            {
                var s = pt.GetOrCreate(i);
                if (model.TryGetValue(i, out var had)) Assert.Same(had, s); else model[i] = s;
            }
            long probe = pool[rng.Next(pool.Length)];
            Assert.Same(model.GetValueOrDefault(probe), pt.Find(probe));
            long from = probe, to = probe + rng.Next(1, 3000);
            Assert.Equal(model.Keys.Any(k => k >= from && k < to), pt.AnyInRange(from, to));
        }
        Assert.Equal(model.Count, pt.Count);
        Assert.Equal(model.Select(kv => (kv.Key, kv.Value)), pt.Ordered());
    }

    [Fact]
    public void A_walk_that_sees_a_slot_added_under_it_throws()
    {
        var pt = new PageTables();
        pt.GetOrCreate(3);
        pt.GetOrCreate(700);
        Assert.Throws<InvalidOperationException>(() => { foreach (var _ in pt.Ordered()) pt.GetOrCreate(5000); });
    }
}
