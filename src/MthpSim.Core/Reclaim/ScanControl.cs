namespace MthpSim.Core.Reclaim;

/// <summary>struct scan_control: one reclaim call's goal, progress and decisions.</summary>
internal sealed class ScanControl
{
    /// <summary>DEF_PRIORITY: the first pass scans 1/4096 of each list.</summary>
    public const int DefPriority = 12;

    /// <summary>The cgroup reclaimed from; null reclaims every lruvec (global reclaim, or the model's machine-wide <c>reclaim</c>: force_empty of a group holding every process).</summary>
    public Memcg.MemCgroup? Target { get; init; }
    public long NrToReclaim;
    public bool MaySwap { get; init; } = true;
    /// <summary>Global reclaim (!cgroup_reclaim()): direct reclaim by an allocation, or kswapd.</summary>
    public bool Global { get; init; }
    /// <summary>current_is_kswapd()</summary>
    public bool Kswapd { get; init; }
    /// <summary>Pages shrink_folio_list() looked at (sc->nr_scanned), for kswapd's priority.</summary>
    public long NrScanned;
    /// <summary>Global reclaim only: the file lists and free memory are below the high watermark, so anon is scanned alone.</summary>
    public bool FileIsTiny;
    public int Priority = DefPriority;
    public long NrReclaimed;
    public bool MayDeactivateAnon, MayDeactivateFile, ForceDeactivate, SkippedDeactivate, CacheTrimMode, MemcgFullWalk;
    /// <summary>The target lruvec's costs, read by prepare_scan_control().</summary>
    public ulong AnonCost, FileCost;
    /// <summary>Pages written by pageout() in the current shrink_inactive_list() (reclaim_stat.nr_pageout).</summary>
    public long NrPageout;
}
