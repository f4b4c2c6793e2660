namespace MthpSim.Core.Cost;

/// <summary>
/// What a process was doing when the kernel did work for it: the operation the cost model charges
/// that work to (<c>NAME cost KIND</c>). Work no process asked for (kswapd's reclaim, kcompactd) is
/// charged to the machine's kernel threads.
/// </summary>
public enum CostOp
{
    /// <summary>Page faults, but for COW (do_anonymous_page(), do_swap_page(), shmem and zero-page faults).</summary>
    Fault,
    /// <summary>Write faults on a write-protected entry (do_wp_page(), do_huge_pmd_wp_page()).</summary>
    Cow,
    Fork,
    Exit,
    Mmap,
    Munmap,
    Mprotect,
    Madvise,
    Mremap,
    /// <summary>khugepaged's scans and collapses of the process, and MADV_COLLAPSE.</summary>
    Collapse,
    /// <summary>Memory reclaim: direct reclaim in the process's allocations, or kswapd.</summary>
    Reclaim,
    /// <summary>Anything else (userfaultfd ioctls, pins, file I/O, prctl).</summary>
    Other,
}

/// <summary>The names scenarios and reports use for <see cref="CostOp"/>.</summary>
public static class CostOpNames
{
    static readonly NameTable<CostOp> Table = new(["fault", "cow", "fork", "exit", "mmap", "munmap", "mprotect", "madvise", "mremap", "collapse", "reclaim", "other"]);

    public const int Count = (int)CostOp.Other + 1;

    public static string Name(CostOp value) => Table.Name(value);

    public static IReadOnlyList<string> All => Table.All;

    public static bool TryParse(string name, out CostOp value) => Table.TryParse(name, out value);
}
