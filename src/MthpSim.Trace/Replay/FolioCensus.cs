using MthpSim.Core;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
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
    public List<(ulong Start, ulong End, long Anon, long File, long Zero, long AnonLarge, PageRuns Present)> Vmas { get; } = [];

    /// <summary>
    /// Walks every page of every VMA of <paramref name="mm"/> (follow_page() on each, as pagemap does):
    /// PMD ranges with no entry are passed over whole, a PMD mapping is counted at once, and in a PTE
    /// table the empty entries are skipped a vector at a time.
    /// </summary>
    public static FolioCensus Of(Kernel k, MmStruct mm)
    {
        var c = new FolioCensus();
        var walk = new Walk(k, c);
        ulong pmdSize = (ulong)k.Geo.PmdSize;
        foreach (var vma in mm.Vmas)
        {
            walk.Start();
            for (ulong a = k.SkipEmptyPmds(mm, vma.Start, vma.End); a < vma.End; a = k.SkipEmptyPmds(mm, a, vma.End))
            {
                ulong pmdEnd = Math.Min((a | (pmdSize - 1)) + 1, vma.End);
                var slot = mm.PageTables.Find((long)(a / pmdSize))!;
                walk.Pmd(slot, a, pmdEnd);
                a = pmdEnd;
            }
            c.ZeroPages += walk.Zero;
            c.Vmas.Add((vma.Start, vma.End, walk.Anon, walk.File, walk.Zero, walk.Large, walk.PresentRuns()));
        }
        return c;
    }

    /// <summary>One VMA's tallies, and the runs of present pages it met (a none or swap entry ends one).</summary>
    sealed class Walk(Kernel k, FolioCensus c)
    {
        readonly ulong _pageSize = (ulong)k.Geo.PageSize;
        readonly int _pageShift = k.Geo.PageShift;
        PageRuns _runs = new();
        ulong _runStart, _runEnd;
        public long Anon, File, Zero, Large;

        public void Start()
        {
            (Anon, File, Zero, Large) = (0, 0, 0, 0);
            _runs = new PageRuns();
            (_runStart, _runEnd) = (0, 0);
        }

        /// <summary>The pages of [from, to), all in one PMD range.</summary>
        public void Pmd(PmdSlot slot, ulong from, ulong to)
        {
            long n = (long)((to - from + _pageSize - 1) >> _pageShift);
            switch (slot.Kind)
            {
                case PmdKind.HugeZero:
                    Present(from, n);
                    Zero += n;
                    return;
                case PmdKind.Huge:
                    Present(from, n);
                    Pages(Pte.Pfn(slot.Leaf), n);
                    return;
                case PmdKind.Table:
                    var ptes = slot.Ptes!.AsSpan((int)((from >> _pageShift) & (ulong)(slot.Ptes!.Length - 1)), (int)n);
                    for (int i = 0; i < ptes.Length;)
                    {
                        ulong pte = ptes[i];
                        if (Pte.IsNone(pte))
                        {
                            int next = ptes[i..].IndexOfAnyExcept(0UL);
                            i = next < 0 ? ptes.Length : i + next;
                            continue;
                        }
                        if (Pte.IsSwap(pte)) { i++; continue; }
                        Present(from + ((ulong)i << _pageShift), 1);
                        if (Pte.IsZero(pte)) Zero++;
                        else Pages(Pte.Pfn(pte), 1);
                        i++;
                    }
                    return;
            }
        }

        // n pages of the folio holding pfn (every page of a folio has its kind and order)
        void Pages(int pfn, long n)
        {
            int order = k.Map.Order(pfn);
            if (k.Map.Kind(pfn) == PageKind.Anon)
            {
                c.AnonPagesByOrder[order] += n;
                Anon += n;
                if (order > 0) Large += n;
            }
            else
            {
                c.FilePagesByOrder[order] += n;
                File += n;
            }
        }

        void Present(ulong addr, long n)
        {
            if (addr != _runEnd)
            {
                if (_runEnd != 0) _runs.Add(_runStart, _runEnd);
                _runStart = addr;
            }
            _runEnd = addr + ((ulong)n << _pageShift);
        }

        public PageRuns PresentRuns()
        {
            if (_runEnd != 0) _runs.Add(_runStart, _runEnd);
            return _runs;
        }
    }
}
