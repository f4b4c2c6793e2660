using MthpSim.Core;
using MthpSim.Core.Folio;
using MthpSim.Core.Vma;

namespace MthpSim.Trace.Replay;

/// <summary>
/// The pages a process maps, by what backs them, as the recorder's truth reads them from
/// /proc/PID/pagemap and /proc/kpageflags: anonymous pages by the order of their folio, file pages
/// (shmem in the model) by theirs, and zero pages.
/// </summary>
public sealed class FolioCensus
{
    public long[] AnonPagesByOrder { get; } = new long[32];
    public long[] FilePagesByOrder { get; } = new long[32];
    public long ZeroPages { get; private set; }
    /// <summary>The same per VMA: its range and pages of each kind (what /proc/PID/smaps would tell apart).</summary>
    public List<(ulong Start, ulong End, long Anon, long File, long Zero, long AnonLarge, string Present)> Vmas { get; } = [];

    /// <summary>Walks every page of every VMA of <paramref name="mm"/> (follow_page() on each, as pagemap does; PMD ranges with no entry are passed over whole).</summary>
    public static FolioCensus Of(Kernel k, MmStruct mm)
    {
        var c = new FolioCensus();
        ulong ps = (ulong)k.Geo.PageSize;
        var runs = new System.Text.StringBuilder();
        var pfns = new int[k.Geo.PtrsPerPte];
        var kinds = new MappingKind[k.Geo.PtrsPerPte];
        foreach (var vma in mm.Vmas)
        {
            long anon = 0, large = 0, file = 0, zero = 0;
            runs.Clear();
            ulong runStart = 0, runEnd = 0;
            for (ulong a = k.SkipEmptyPmds(mm, vma.Start, vma.End); a < vma.End; a = k.SkipEmptyPmds(mm, a, vma.End))
            {
                int n = k.ResolvePfns(mm, a, vma.End, pfns, kinds);
                for (int i = 0; i < n; i++, a += ps)
                {
                    var kind = kinds[i];
                    if (kind is MappingKind.None or MappingKind.Swap) continue;
                    if (a != runEnd) { if (runEnd != 0) runs.Append($"{runStart:x}-{runEnd:x},"); runStart = a; }
                    runEnd = a + ps;
                    if (kind is MappingKind.Zero or MappingKind.HugeZero) { zero++; continue; }
                    int pfn = pfns[i], order = k.Map.Order(pfn);
                    if (k.Map.Kind(pfn) == PageKind.Anon) { c.AnonPagesByOrder[order]++; anon++; if (order > 0) large++; }
                    else { c.FilePagesByOrder[order]++; file++; }
                }
            }
            c.ZeroPages += zero;
            c.Vmas.Add((vma.Start, vma.End, anon, file, zero, large, runEnd != 0 ? runs.Append($"{runStart:x}-{runEnd:x}").ToString() : ""));
        }
        return c;
    }
}
