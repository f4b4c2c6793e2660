namespace MthpSim.Core.Compaction;

/// <summary>enum migrate_mode as compaction uses it.</summary>
public enum MigrateMode
{
    /// <summary>MIGRATE_ASYNC: direct compaction's first attempt; async direct compaction also scans only blocks of the request's type.</summary>
    Async,
    /// <summary>MIGRATE_SYNC_LIGHT: direct compaction's retries, kcompactd, proactive compaction.</summary>
    SyncLight,
    /// <summary>MIGRATE_SYNC: /proc/sys/vm/compact_memory only.</summary>
    Sync,
}
