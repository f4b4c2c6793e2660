namespace MthpSim.Core.Khugepaged;

/// <summary>
/// What the collapse designs are compared on: scan cost (PTEs examined, ranges tried, collapse
/// attempts, per PMD window), outcome (collapses per order, zero-filled memory introduced), and
/// creep (ranges collapsed again into a larger order, and the longest such chain).
/// </summary>
public sealed class CollapseMetrics
{
    public long PmdWindows, PtesExamined, RangesTried, CollapseAttempts, BloatBytes, CreepEvents;
    public int LongestCreepChain;
    /// <summary>Shmem ranges collapsed in the page cache (collapse_file()), by khugepaged or MADV_COLLAPSE.</summary>
    public long FileCollapses;
    public long[] Collapses;

    /// <summary>Collapsed ranges per mm: their starts in order (for range lookups), and each one's order and chain length.</summary>
    readonly Dictionary<int, (SortedSet<ulong> Starts, Dictionary<ulong, (int Order, int Chain)> Info)> _collapsed = new();

    public CollapseMetrics(int pmdOrder) => Collapses = new long[pmdOrder + 1];

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
