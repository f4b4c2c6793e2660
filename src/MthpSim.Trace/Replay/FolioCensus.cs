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

    /// <summary>Walks every page of every VMA of <paramref name="mm"/> (follow_page() on each, as pagemap does).</summary>
    public static FolioCensus Of(Kernel k, MmStruct mm)
    {
        var c = new FolioCensus();
        ulong ps = (ulong)k.Geo.PageSize;
        foreach (var vma in mm.Vmas)
        {
            long anon = c.AnonPagesByOrder.Sum(), large = c.AnonPagesByOrder.Skip(1).Sum(), file = c.FilePagesByOrder.Sum(), zero = c.ZeroPages;
            var runs = new System.Text.StringBuilder();
            ulong runStart = 0, runEnd = 0;
            for (ulong a = vma.Start; a < vma.End; a += ps)
            {
                int pfn = k.ResolvePfn(mm, a, out var kind);
                if (kind != MappingKind.None && kind != MappingKind.Swap)
                {
                    if (a != runEnd) { if (runEnd != 0) runs.Append($"{runStart:x}-{runEnd:x},"); runStart = a; }
                    runEnd = a + ps;
                }
                switch (kind)
                {
                    case MappingKind.Zero or MappingKind.HugeZero: c.ZeroPages++; break;
                    case MappingKind.PtePage or MappingKind.PmdPage:
                        (k.Map.Kind(pfn) == PageKind.Anon ? c.AnonPagesByOrder : c.FilePagesByOrder)[k.Map.Order(pfn)]++;
                        break;
                }
            }
            c.Vmas.Add((vma.Start, vma.End, c.AnonPagesByOrder.Sum() - anon, c.FilePagesByOrder.Sum() - file, c.ZeroPages - zero, c.AnonPagesByOrder.Skip(1).Sum() - large, runEnd != 0 ? runs.Append($"{runStart:x}-{runEnd:x}").ToString() : ""));
        }
        return c;
    }
}
