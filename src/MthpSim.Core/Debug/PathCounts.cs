namespace MthpSim.Core;

/// <summary>
/// How often the model took paths the kernel keeps no counter for, so random testing can show it
/// reached them (write-fault reuse and copy, shmem to swap and back).
/// </summary>
public sealed class PathCounts
{
    /// <summary>do_wp_page() and do_huge_pmd_wp_page() reused the page or folio in place.</summary>
    public long WpReuse;
    /// <summary>wp_page_copy(): the faulting page was copied.</summary>
    public long WpCopy;
    /// <summary>shmem_writeout(): shmem pages that left the page cache for swap.</summary>
    public long ShmemSwapout;
    /// <summary>shmem_swapin_folio(): shmem pages back from swap.</summary>
    public long ShmemSwapin;
    /// <summary>Clean shmem pages reclaim dropped as holes (__remove_mapping()).</summary>
    public long ShmemCleanDropped;
    /// <summary>handle_userfault(): faults delivered to a userfaultfd reader, by reason (missing, write-protect, minor).</summary>
    public long UffdMissing, UffdWp, UffdMinor;
    /// <summary>arm64: blocks given the contiguous bit by set_ptes() (contpte_set_ptes()), and folded or unfolded in place (contpte_convert()).</summary>
    public long ContSet, ContFold, ContUnfold;
}
