using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Debug;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>
/// <see cref="Kernel.AccessOverTime"/> takes runs of page touches spread over time in one access;
/// it must leave exactly what sleeping to each page's time and touching that page alone leaves,
/// with background work running in between: kswapd swapping under memory pressure, khugepaged
/// waking every few milliseconds, kcompactd's proactive checks and the memcg statistics flush.
/// </summary>
public class TimedAccessTests
{
    const ulong Base = 0x40000000;
    const int Page = 4096;

    static (Kernel K, MmStruct Mm) Machine(bool thp)
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 64L << 20, SwapBytes = 96L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", thp ? "always" : "never"));
        if (thp) Assert.Equal(0, k.SysfsWrite("hugepages-64kB/enabled", "always"));
        Assert.Equal(0, k.SysfsWrite("khugepaged/scan_sleep_millisecs", "3"));
        Assert.Equal(0, k.SysfsWrite("khugepaged/pages_to_scan", "512"));
        var mm = k.CreateProcess("p");
        Assert.Equal((long)Base, k.Mmap(mm, Base, 120UL << 20, Prot.Read | Prot.Write));
        return (k, mm);
    }

    /// <summary>Runs of ascending pages, each touched a few ms (or none) after the one before.</summary>
    static List<(ulong Start, int Pages, bool Write, long[] Ms)> Runs(int seed)
    {
        var rng = new Random(seed);
        var runs = new List<(ulong, int, bool, long[])>();
        for (int r = 0; r < 200; r++)
        {
            int pages = rng.Next(1, 400);
            ulong start = Base + (ulong)rng.Next(0, 120 * 256 - pages) * Page;
            var ms = new long[pages];
            for (int i = 1; i < pages; i++) ms[i] = ms[i - 1] + (rng.Next(6) == 0 ? rng.Next(1, 40) : 0);
            runs.Add((start, pages, rng.Next(4) != 0, ms));
        }
        return runs;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(4, false)]
    [InlineData(5, true)]
    public void A_timed_run_leaves_what_a_sleep_and_a_touch_per_page_leave(int seed, bool thp)
    {
        var (a, ma) = Machine(thp);
        var (b, mb) = Machine(thp);
        int stops = 0;
        foreach (var (start, pages, write, ms) in Runs(seed))
        {
            // a: the run as one timed access; where it stops, time passes to the next page's and it goes on
            for (int done = 0; done < pages;)
            {
                if (done > 0) a.Sleep(ms[done] - ms[done - 1]);
                var rest = ms[done..].Select(m => m - ms[done]).ToArray();
                ulong from = start + (ulong)done * Page;
                long before = a.NowMs;
                long rc = a.AccessOverTime(ma, from, start + (ulong)pages * Page, write, rest, out ulong stoppedAt);
                int reached = (int)((stoppedAt - from) / Page);
                Assert.True(rc < 0 || reached > 0);
                // the clock is at the last page touched (or the one that failed)
                Assert.Equal(before + rest[rc < 0 ? reached : reached - 1], a.NowMs);
                done += rc < 0 ? reached + 1 : reached;
                if (rc == 0 && done < pages) stops++;
            }
            // b: sleep to each page's time, then touch that page alone
            for (int i = 0; i < pages; i++)
            {
                if (i > 0) b.Sleep(ms[i] - ms[i - 1]);
                ulong p = start + (ulong)i * Page;
                b.Access(mb, p, p + Page, write);
            }
            Assert.Equal(b.NowMs, a.NowMs);
            Assert.Empty(InvariantChecker.Check(a));
        }
        Assert.Equal(b.RenderMeminfo(), a.RenderMeminfo());
        Assert.Equal(b.RenderBuddyinfo(), a.RenderBuddyinfo());
        Assert.Equal(b.RenderVmstat(), a.RenderVmstat());
        Assert.Equal(b.RenderKhugepagedTrace(extended: true), a.RenderKhugepagedTrace(extended: true));
        Assert.Equal(b.RenderSmaps(mb.Vmas), a.RenderSmaps(ma.Vmas));
        Assert.Equal(mb.MinFlt, ma.MinFlt);
        Assert.Equal(mb.Rss, ma.Rss);
        for (ulong p = Base; p < Base + (120UL << 20); p += Page) Assert.Equal(b.ContentAt(mb, p), a.ContentAt(ma, p));
        // the background work was there to be met: swapping, collapses, and accesses stopped for it
        Assert.True(Vmstat(a, "pswpout") > 0);
        if (thp) Assert.True(Vmstat(a, "thp_collapse_alloc") > 0);
        Assert.True(stops > 0);
    }

    [Fact]
    public void The_clock_ends_at_the_time_of_the_last_page_touched_even_part_of_it()
    {
        var (k, mm) = Machine(thp: false);
        long before = k.NowMs;
        // two pages and a half: three pages touched, the last at 7 ms
        Assert.Equal(0, k.AccessOverTime(mm, Base, Base + 2 * Page + Page / 2, write: true, [0, 3, 7], out ulong stoppedAt));
        Assert.Equal(Base + 2 * Page + Page / 2, stoppedAt);
        Assert.Equal(before + 7, k.NowMs);
        Assert.NotEqual(0u, k.ContentAt(mm, Base + 2 * Page));
        // too few times for the pages is refused, touching nothing
        Assert.Throws<ArgumentException>(() => k.AccessOverTime(mm, Base + 4 * Page, Base + 6 * Page, write: true, [0], out _));
        Assert.Equal(0u, k.ContentAt(mm, Base + 4 * Page));
    }

    static long Vmstat(Kernel k, string name) =>
        long.Parse(k.RenderVmstat().Split('\n').Single(l => l.StartsWith(name + " ")).Split(' ')[1]);
}
