namespace MthpSim.Core.Compaction;

/// <summary>enum compact_priority: lower is more thorough; the allocator escalates by decrementing.</summary>
public enum CompactPriority
{
    /// <summary>COMPACT_PRIO_SYNC_FULL (MIN_COMPACT_PRIORITY): skip hints and target-block types ignored, whole zone.</summary>
    SyncFull = 0,
    /// <summary>COMPACT_PRIO_SYNC_LIGHT (DEF_COMPACT_PRIORITY): MIGRATE_SYNC_LIGHT.</summary>
    SyncLight = 1,
    /// <summary>COMPACT_PRIO_ASYNC (INIT_COMPACT_PRIORITY): MIGRATE_ASYNC.</summary>
    Async = 2,
}
