namespace MthpSim.Core.Compaction;

/// <summary>
/// The compaction state struct zone keeps between runs: the scanners' cached positions, the
/// pageblock skip hints, and the deferral counters.
/// </summary>
internal sealed class ZoneCompaction
{
    /// <summary>compact_cached_migrate_pfn[0] (async) and [1] (sync).</summary>
    public readonly long[] CachedMigratePfn = new long[2];
    public long CachedFreePfn;
    /// <summary>compact_blockskip_flush: a direct compactor's scanners met; the next reset clears the skip hints.</summary>
    public bool BlockskipFlush;
    /// <summary>compact_considered, compact_defer_shift, compact_order_failed.</summary>
    public int Considered, DeferShift, OrderFailed;
    /// <summary>PB_compact_skip per pageblock.</summary>
    public readonly System.Collections.BitArray Skip;

    public ZoneCompaction(long pageblocks, long lastBlockStart)
    {
        Skip = new System.Collections.BitArray((int)pageblocks);
        CachedFreePfn = lastBlockStart;
    }
}
