namespace MthpSim.Oracle.Fragmentation;

/// <summary>
/// What one phase got on one side: faults made, folios of the size asked for, and the compaction
/// counters' deltas (/proc/vmstat). <see cref="AltFolios"/> is a second count where one exists (live
/// 64K: the folios seen in this process's pagemap, beside the machine-wide stats counter).
/// <see cref="FreeBlocks"/>: free memory in blocks of the folio's size or larger when the phase
/// began (buddyinfo, in blocks of that size): what the phase could get without compaction.
/// </summary>
public sealed record PhaseCounts(long Faults, long Folios, long CompactStall, long CompactSuccess, long CompactFail, long PgmigrateSuccess, long? AltFolios = null, long? FreeBlocks = null)
{
    public double Fraction => Faults == 0 ? 0 : Math.Min(1.0, (double)Folios / Faults);
}
