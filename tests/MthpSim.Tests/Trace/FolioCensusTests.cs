using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Folio;
using MthpSim.Core.Vma;
using MthpSim.Trace.Replay;
using Xunit;

namespace MthpSim.Tests.Trace;

/// <summary>
/// <see cref="FolioCensus.Of"/> passes over PMD ranges with no entry whole; it must count exactly what
/// asking every page of every VMA would (pagemap's answer), on VMAs that start and end inside PMD
/// ranges, with empty PMD ranges between mapped ones, zero pages, and PMD-mapped folios.
/// </summary>
public class FolioCensusTests
{
    [Fact]
    public void Counts_what_a_page_by_page_walk_counts()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 1L << 30 });
        Assert.Equal(0, k.SysfsWrite("enabled", "always"));
        Assert.Equal(0, k.SysfsWrite("hugepages-64kB/enabled", "always"));
        var mm = k.CreateProcess("census");
        const ulong M2 = 2UL << 20, Page = 4096;
        ulong a = (ulong)k.Mmap(mm, null, 18 * M2, Prot.Read | Prot.Write);
        a = (a + M2 - 1) & ~(M2 - 1);
        // VMAs cut inside PMD ranges: [a+12K, a+5M) read-only, the rest writable
        Assert.Equal(0, k.Mprotect(mm, a + 3 * Page, 5 * (M2 / 2) - 3 * Page, Prot.Read));
        Assert.Equal(0, k.Access(mm, a + 3 * Page, a + 5 * Page, write: false));                 // zero pages
        Assert.Equal(0, k.Access(mm, a + 2 * M2 + 17 * Page, a + 2 * M2 + 18 * Page, write: false));
        Assert.Equal(0, k.Access(mm, a + 5 * (M2 / 2) + 5 * Page, a + 5 * (M2 / 2) + 40 * Page, write: true));  // 64K folios: the PMD range is cut by the VMA's start
        Assert.Equal(0, k.Access(mm, a + 9 * M2, a + 10 * M2, write: true));                         // a PMD-mapped folio
        Assert.Equal(0, k.Access(mm, a + 15 * M2 - Page, a + 15 * M2, write: true));
        Assert.Equal(0, k.Madvise(mm, a + 5 * (M2 / 2) + 8 * Page, 4 * Page, MadviseAdvice.Dontneed));  // a hole in a run

        var census = FolioCensus.Of(k, mm);
        var (anon, file, zero, vmas) = PageByPage(k, mm);
        Assert.Equal(anon, census.AnonPagesByOrder);
        Assert.Equal(file, census.FilePagesByOrder);
        Assert.Equal(zero, census.ZeroPages);
        Assert.Equal(vmas, census.Vmas.Select(v => (v.Start, v.End, v.Anon, v.File, v.Zero, v.AnonLarge, v.Present.ToString())));
        Assert.Contains(census.Vmas, v => v.AnonLarge >= 512);
        Assert.True(census.ZeroPages >= 3);
        Assert.True(census.AnonPagesByOrder[4] > 0);
    }

    static (long[] Anon, long[] File, long Zero, List<(ulong, ulong, long, long, long, long, string)> Vmas) PageByPage(Kernel k, MmStruct mm)
    {
        long[] anonBy = new long[32], fileBy = new long[32];
        long zeroAll = 0;
        var vmas = new List<(ulong, ulong, long, long, long, long, string)>();
        ulong ps = (ulong)k.Geo.PageSize;
        foreach (var vma in mm.Vmas)
        {
            long anon = 0, file = 0, zero = 0, large = 0;
            var present = new List<string>();
            ulong runStart = 0, runEnd = 0;
            for (ulong a = vma.Start; a < vma.End; a += ps)
            {
                int pfn = k.ResolvePfn(mm, a, out var kind);
                if (kind is MappingKind.None or MappingKind.Swap) continue;
                if (a != runEnd) { if (runEnd != 0) present.Add($"{runStart:x}-{runEnd:x}"); runStart = a; }
                runEnd = a + ps;
                if (kind is MappingKind.Zero or MappingKind.HugeZero) { zero++; continue; }
                int order = k.Map.Order(pfn);
                if (k.Map.Kind(pfn) == PageKind.Anon) { anonBy[order]++; anon++; if (order > 0) large++; }
                else { fileBy[order]++; file++; }
            }
            if (runEnd != 0) present.Add($"{runStart:x}-{runEnd:x}");
            zeroAll += zero;
            vmas.Add((vma.Start, vma.End, anon, file, zero, large, string.Join(",", present)));
        }
        return (anonBy, fileBy, zeroAll, vmas);
    }
}
