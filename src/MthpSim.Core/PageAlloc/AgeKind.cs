namespace MthpSim.Core.PageAlloc;

/// <summary>What the <c>age</c> statement leaves in memory, as a machine after uptime holds it.</summary>
public enum AgeKind
{
    /// <summary>Kernel allocations that never move (slab, driver buffers): MIGRATE_UNMOVABLE.</summary>
    Unmovable,
    /// <summary>Kernel allocations the shrinkers could free (dentries, inodes): MIGRATE_RECLAIMABLE.</summary>
    Reclaimable,
    /// <summary>User pages of programs outside the scenario, pinned long-term: movable blocks, never migratable.</summary>
    Pinned,
    /// <summary>Clean page cache of files outside the scenario: movable, migratable, dropped first by reclaim.</summary>
    Pagecache,
}
