using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;

namespace MthpSim.Tests.Core;

/// <summary>
/// Fork and zap take a run of order-0 anonymous folios in one step; the run's length is found a
/// vector at a time (<see cref="Pte.ConsecutiveNormal"/>, <see cref="MemMap.SmallAnonPrefix"/>) and
/// must be what checking entry by entry and frame by frame finds.
/// </summary>
public class SmallAnonRunTests
{
    [Fact]
    public void Consecutive_normal_entries_are_counted_as_one_by_one()
    {
        var rng = new Random(20261206);
        for (int trial = 0; trial < 2000; trial++)
        {
            int pfn = rng.Next(0, 1 << 20), n = rng.Next(0, 40);
            var ptes = new ulong[n];
            for (int i = 0; i < n; i++)
            {
                ulong flags = (ulong)rng.Next(0, 16) & (Pte.Write | Pte.Dirty | Pte.Young) | (rng.Next(8) == 0 ? Pte.UffdWp : 0);
                ptes[i] = Pte.Make(pfn + i, flags);
                if (rng.Next(Math.Max(2, n)) != 0) continue;
                ptes[i] = rng.Next(5) switch
                {
                    0 => 0,                                       // pte_none
                    1 => Pte.Make(pfn + i, Pte.Special),           // the zero page
                    2 => Pte.MakeSwap(pfn + i, exclusive: true),   // a swap entry
                    3 => Pte.Make(pfn + i + 1, flags),             // another frame
                    _ => Pte.Make(pfn + i - 1, flags),
                };
            }
            int expected = 0;
            while (expected < n && Pte.IsNormal(ptes[expected]) && Pte.Pfn(ptes[expected]) == pfn + expected) expected++;
            Assert.Equal(expected, Pte.ConsecutiveNormal(ptes, pfn));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void A_prefix_of_small_anonymous_frames_is_what_frame_by_frame_finds(int how)
    {
        var mapped = (SmallMapped)how;   // Any, Shared, Exclusive
        var rng = new Random(20261206 + (int)mapped);
        var map = new MemMap(1024);
        map.EnsureCapacity(1024);
        for (int pfn = 0; pfn < 1024;)
        {
            if (rng.Next(40) == 0 && pfn % 4 == 0) { map.InitFolio(pfn, 2, PageKind.Anon); pfn += 4; continue; }
            map.InitFolio(pfn, 0, rng.Next(50) == 0 ? PageKind.Shmem : PageKind.Anon);
            // mostly runs of one state, as fork leaves them, with a different page now and then
            int mapcount = rng.Next(30) == 0 ? rng.Next(0, 4) : rng.Next(300) == 0 ? 260 : mapped == SmallMapped.Shared ? 2 : 1;
            for (int c = 0; c < mapcount; c++) map.AddPteMapcount(pfn, 1);
            int extraRefs = rng.Next(30) == 0 ? rng.Next(0, 3) : mapcount - 1;
            if (extraRefs > 0) map.AddRef(pfn, extraRefs);
            pfn++;
        }
        for (int trial = 0; trial < 3000; trial++)
        {
            int from = rng.Next(0, 1024), n = rng.Next(0, 1024 - from + 1);
            int expected = 0;
            while (expected < n && map.IsSmallAnon(from + expected, mapped)) expected++;
            Assert.Equal(expected, map.SmallAnonPrefix(from, n, mapped));
        }
    }
}
