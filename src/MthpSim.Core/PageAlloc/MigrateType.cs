namespace MthpSim.Core.PageAlloc;

/// <summary>
/// A pageblock's migratetype (include/linux/mmzone.h), in the kernel's order, for a kernel built as
/// the live machines' is: CONFIG_MEMORY_ISOLATION without CONFIG_CMA. The model allocates only the
/// first three; the others exist so that /proc/pagetypeinfo lists every type the live kernel prints.
/// </summary>
public enum MigrateType : byte
{
    Unmovable = 0,
    Movable = 1,
    Reclaimable = 2,
    HighAtomic = 3,
    Isolate = 4,
}

public static class MigrateTypes
{
    /// <summary>MIGRATE_PCPTYPES: the types allocations ask for, each with its own free lists.</summary>
    public const int PcpTypes = 3;
    /// <summary>MIGRATE_TYPES with CONFIG_MEMORY_ISOLATION and without CONFIG_CMA.</summary>
    public const int Count = 5;

    /// <summary>migratetype_names[]</summary>
    public static string Name(MigrateType mt) => mt switch
    {
        MigrateType.Unmovable => "Unmovable",
        MigrateType.Movable => "Movable",
        MigrateType.Reclaimable => "Reclaimable",
        MigrateType.HighAtomic => "HighAtomic",
        _ => "Isolate",
    };

    /// <summary>fallbacks[]: where an allocation of each type looks when its own lists are empty, in order.</summary>
    internal static ReadOnlySpan<MigrateType> Fallbacks(MigrateType mt) => mt switch
    {
        MigrateType.Unmovable => [MigrateType.Reclaimable, MigrateType.Movable],
        MigrateType.Movable => [MigrateType.Reclaimable, MigrateType.Unmovable],
        _ => [MigrateType.Unmovable, MigrateType.Movable],
    };
}
