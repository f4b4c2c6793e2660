namespace MthpSim.Core.Khugepaged;

/// <summary>
/// What the collapse designs are compared on: scan cost (PTEs examined, ranges tried, collapse
/// attempts, per PMD window), outcome (collapses per order, zero-filled memory introduced), and
/// creep (ranges collapsed again into a larger order, and the longest such chain); the work a
/// <see cref="CollapseCostModel"/> charges (PTEs read in isolation, pages copied and zero-filled);
/// and memory over virtual time, sampled at each of khugepaged's full scans.
/// </summary>
public sealed class CollapseMetrics
{
    public long PmdWindows, PtesExamined, RangesTried, CollapseAttempts, BloatBytes, CreepEvents;
    /// <summary>PTEs read by collapse attempts' isolation; pages copied into and zero-filled in collapsed folios.</summary>
    public long IsolatePtes, PagesCopied, PagesZeroed;
    public int LongestCreepChain;
    /// <summary>Shmem ranges collapsed in the page cache (collapse_file()), by khugepaged or MADV_COLLAPSE.</summary>
    public long FileCollapses;
    public long[] Collapses;

    /// <summary>Collapsed ranges per mm: their starts in order (for range lookups), and each one's order and chain length.</summary>
    readonly Dictionary<int, (SortedSet<ulong> Starts, Dictionary<ulong, (int Order, int Chain)> Info)> _collapsed = new();

    public CollapseMetrics(int pmdOrder) => Collapses = new long[pmdOrder + 1];

    /// <summary>Memory at the end of one of khugepaged's full scans: anonymous memory resident in every process, and the zero-filled memory collapses had introduced so far.</summary>
    public readonly record struct Sample(long FullScan, long TimeMs, long AnonKb, long BloatKb);

    /// <summary>At most this many samples are kept: when full, every other one goes and only every other full scan is sampled from then on.</summary>
    public const int MaxSamples = 256;
    readonly List<Sample> _samples = [];
    long _sampleEvery = 1;

    /// <summary>Memory over virtual time, one sample per full scan (fewer after a long run: see <see cref="MaxSamples"/>).</summary>
    public IReadOnlyList<Sample> Samples => _samples;

    internal void SampleFullScan(long fullScan, long timeMs, long anonKb)
    {
        if (fullScan % _sampleEvery != 0) return;
        if (_samples.Count == MaxSamples)
        {
            int w = 0;
            for (int r = 1; r < _samples.Count; r += 2) _samples[w++] = _samples[r];
            _samples.RemoveRange(w, _samples.Count - w);
            _sampleEvery *= 2;
            if (fullScan % _sampleEvery != 0) return;
        }
        _samples.Add(new Sample(fullScan, timeMs, anonKb, BloatBytes >> 10));
    }

    /// <summary>Records a collapse of [start, start + size) at order; a range that swallows earlier smaller collapses is creep.</summary>
    internal void RecordCollapse(int mmId, ulong start, ulong size, int order)
    {
        Collapses[order]++;
        if (!_collapsed.TryGetValue(mmId, out var ranges)) _collapsed[mmId] = ranges = (new(), new());
        int chain = 1;
        foreach (ulong s in ranges.Starts.GetViewBetween(start, start + size - 1).ToList())
        {
            var (o, c) = ranges.Info[s];
            if (o < order)
            {
                CreepEvents++;
                chain = Math.Max(chain, c + 1);
            }
            ranges.Starts.Remove(s);
            ranges.Info.Remove(s);
        }
        ranges.Starts.Add(start);
        ranges.Info[start] = (order, chain);
        LongestCreepChain = Math.Max(LongestCreepChain, chain);
    }
}
