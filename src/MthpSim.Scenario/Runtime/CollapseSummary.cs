namespace MthpSim.Scenario.Runtime;

/// <summary>Memory at the end of one of khugepaged's full scans: anonymous memory resident in every process, zero-filled memory collapses introduced so far.</summary>
public sealed record MemorySample(long FullScan, long TimeMs, long AnonKb, long BloatKb);

/// <summary>
/// What a run's collapse design did and what the machine ended with, as <c>compare</c> tabulates it
/// and <c>sweep</c> records it. <see cref="CpuMs"/> and <see cref="LockHoldMs"/> are the collapse cost
/// model's estimate of the kernel's CPU time for the collapse work (khugepaged and MADV_COLLAPSE) and
/// of how long it held the mmap write lock; <see cref="WastedAttempts"/> are attempts that allocated
/// and collapsed nothing; <see cref="Memory"/> is sampled at the end of each of khugepaged's full
/// scans; <see cref="TlbEntries"/> are those every process's present mappings need at the end.
/// </summary>
public sealed record CollapseSummary(long PmdWindows, long PtesExamined, double PtesPerWindow, long RangesTried, long CollapseAttempts,
    SortedDictionary<string, long> CollapsesBySize, SortedDictionary<string, long> MappedKbBySize, long BloatKb, long CreepEvents,
    int LongestCreepChain, long WastedAttempts, double CpuMs, double LockHoldMs, IReadOnlyList<MemorySample> Memory, long? TlbEntries)
{
    /// <summary>The summary of a run that finished (its metrics were collected).</summary>
    public static CollapseSummary From(RunResult r)
    {
        var m = r.CollapseMetrics!;
        int pmdOrder = m.Collapses.Length - 1;
        var collapses = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var mapped = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int o = 0; o <= pmdOrder; o++)
        {
            string size = $"{r.PageSizeKb << o}kB";
            if (m.Collapses[o] != 0) collapses[size] = m.Collapses[o];
            if (o < r.MappedBytesByOrder.Length && r.MappedBytesByOrder[o] != 0) mapped[size] = r.MappedBytesByOrder[o] >> 10;
        }
        var cost = r.CollapseCost ?? MthpSim.Core.Khugepaged.CollapseCostModel.Default;
        return new CollapseSummary(m.PmdWindows, m.PtesExamined, m.PmdWindows == 0 ? 0 : (double)m.PtesExamined / m.PmdWindows,
            m.RangesTried, m.CollapseAttempts, collapses, mapped, m.BloatBytes >> 10, m.CreepEvents, m.LongestCreepChain,
            m.CollapseAttempts - m.Collapses.Sum(), Math.Round(cost.CpuNs(m) / 1e6, 3), Math.Round(cost.LockHoldNs(m) / 1e6, 3),
            [.. m.Samples.Select(s => new MemorySample(s.FullScan, s.TimeMs, s.AnonKb, s.BloatKb))], r.TlbEntries);
    }
}
