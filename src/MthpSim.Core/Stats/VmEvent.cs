namespace MthpSim.Core.Stats;

/// <summary>The THP, fault and swap events of /proc/vmstat the model counts.</summary>
public enum VmEvent
{
    ThpMigrationSuccess, ThpMigrationFail, ThpMigrationSplit,
    ThpFaultAlloc, ThpFaultFallback, ThpFaultFallbackCharge,
    ThpCollapseAlloc, ThpCollapseAllocFailed,
    ThpFileAlloc, ThpFileFallback, ThpFileFallbackCharge, ThpFileMapped,
    ThpSplitPage, ThpSplitPageFailed, ThpDeferredSplitPage, ThpUnderusedSplitPage, ThpSplitPmd,
    ThpScanExceedNonePte, ThpScanExceedSwapPte, ThpScanExceedSharePte,
    ThpSplitPud, ThpZeroPageAlloc, ThpZeroPageAllocFailed, ThpSwpout, ThpSwpoutFallback,
    /// <summary>swpin_zero, swpout_zero: pages of all zeroes swapped without I/O (the zeromap).</summary>
    SwpinZero, SwpoutZero,
    /// <summary>pswpin, pswpout: pages read from and written to swap.</summary>
    Pswpin, Pswpout,
    /// <summary>swap_ra: pages read ahead into the swap cache; swap_ra_hit: faults that found one there.</summary>
    SwapRa, SwapRaHit,
    PgFault,
    /// <summary>pgmajfault: faults that had to read from swap.</summary>
    PgMajFault,
    /// <summary>pglazyfreed: lazily freed pages discarded by reclaim.</summary>
    PgLazyFreed,
    /// <summary>LRU movements and reclaim scanning (counted only where the model keeps the LRU: with a swap device).</summary>
    Pgactivate, Pgdeactivate, Pglazyfree, Pgrefill,
    PgstealKswapd, PgstealDirect, PgscanKswapd, PgscanDirect,
    PgscanAnon, PgscanFile, PgstealAnon, PgstealFile,
    /// <summary>workingset_refault_anon, workingset_activate_anon: anon pages read back from swap whose eviction left a shadow, and those of them activated (with the LRU only).</summary>
    WorkingsetRefaultAnon, WorkingsetActivateAnon,
    /// <summary>oom_kill: processes the OOM killer killed (here only a memory cgroup's).</summary>
    OomKill,
    /// <summary>pgmigrate_success, pgmigrate_fail: base pages compaction moved, or failed to move.</summary>
    PgmigrateSuccess, PgmigrateFail,
    /// <summary>Compaction (mm/compaction.c): scanner work, isolated pages (sources and free targets), direct compaction outcomes, kcompactd.</summary>
    CompactMigrateScanned, CompactFreeScanned, CompactIsolated, CompactStall, CompactFail, CompactSuccess,
    CompactDaemonWake, CompactDaemonMigrateScanned, CompactDaemonFreeScanned,
    Count,
}

/// <summary>Per-order mTHP statistics (enum mthp_stat_item), shown under hugepages-&lt;size&gt;kB/stats/.</summary>
public enum MthpStat
{
    AnonFaultAlloc, AnonFaultFallback, AnonFaultFallbackCharge,
    Zswpout, Swpin, SwpinFallback, SwpinFallbackCharge, Swpout, SwpoutFallback,
    ShmemAlloc, ShmemFallback, ShmemFallbackCharge,
    Split, SplitFailed, SplitDeferred,
    NrAnon, NrAnonPartiallyMapped,
    // Added by the upstream mTHP collapse series (not in 6.18): shown only under that policy.
    CollapseAlloc, CollapseAllocFailed, CollapseExceedNonePte, CollapseExceedSwapPte, CollapseExceedSharedPte,
    // Added by Dev Jain's per-order RFC (patch 02): collapses below the PMD size only; shown only under that policy.
    AnonCollapseAlloc, AnonCollapseAllocFailed,
    Count,
}

public static class StatNames
{
    public static string Of(VmEvent e) => e switch
    {
        VmEvent.PgFault => "pgfault",
        VmEvent.PgMajFault => "pgmajfault",
        VmEvent.PgLazyFreed => "pglazyfreed",
        _ => Snake(e.ToString()),
    };
    public static string Of(MthpStat s) => Snake(s.ToString());

    /// <summary>Kernel file names are the snake_case of the enum names.</summary>
    static string Snake(string pascal)
    {
        var sb = new System.Text.StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    static readonly Dictionary<string, VmEvent> VmByName =
        Enumerable.Range(0, (int)VmEvent.Count).Select(i => (VmEvent)i).ToDictionary(Of);
    static readonly Dictionary<string, MthpStat> MthpByName =
        Enumerable.Range(0, (int)MthpStat.Count).Select(i => (MthpStat)i).ToDictionary(Of);

    public static bool TryVmEvent(string name, out VmEvent e) => VmByName.TryGetValue(name, out e);
    public static bool TryMthpStat(string name, out MthpStat s) => MthpByName.TryGetValue(name, out s);
}
