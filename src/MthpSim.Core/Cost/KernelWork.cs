namespace MthpSim.Core.Cost;

/// <summary>
/// A unit of kernel work the cost model charges, counted where the modelled kernel does that work
/// (docs/cost-model.md lists where each is counted). Its scenario name is <see cref="KernelWorkNames"/>.
/// </summary>
public enum KernelWork
{
    /// <summary>A page fault taken: exception entry and exit, VMA lookup, the page walk (each pgfault).</summary>
    Faults,
    /// <summary>A base page zeroed for a new folio (folio_zero_user(), clear_page()).</summary>
    PagesZeroed,
    /// <summary>A base page copied (COW's copy_user_highpage(), a collapse's copy, migration).</summary>
    PagesCopied,
    /// <summary>A folio allocated for user memory (the buddy allocator, the memcg charge, the LRU).</summary>
    FolioAllocs,
    /// <summary>A folio given back to the buddy allocator.</summary>
    FolioFrees,
    /// <summary>A base page of such a folio (free_pages_prepare() checks every page of a large folio).</summary>
    PagesFreed,
    /// <summary>A set_ptes() call that maps pages (or a PMD entry set): faults, COW, swap-in.</summary>
    PteBatches,
    /// <summary>An entry such a call writes.</summary>
    Ptes,
    /// <summary>A per-folio rmap and reference update (folio_add_*_rmap_*(), folio_remove_rmap_*(), folio_ref_add()).</summary>
    RmapFolios,
    /// <summary>A per-page mapcount update inside one (a PMD mapping has none).</summary>
    RmapPages,
    /// <summary>A page-table page allocated (pte_alloc_one(), a PMD mapping's deposit included).</summary>
    PageTableAllocs,
    /// <summary>A page-table page freed.</summary>
    PageTableFrees,
    /// <summary>A batch of fork's copy_present_ptes() (folio_pte_batch()), or one copy_huge_pmd().</summary>
    ForkBatches,
    /// <summary>An entry such a batch copies (write-protected in the parent, set in the child).</summary>
    ForkPtes,
    /// <summary>A batch of zap_pte_range() (one folio's run, one swap or zero-page entry), or one zap_huge_pmd().</summary>
    ZapBatches,
    /// <summary>An entry such a batch clears.</summary>
    ZapPtes,
    /// <summary>A TLB flush (a range or the whole mm).</summary>
    TlbFlushes,
    /// <summary>A fork(): the task and mm copied, the child's exit and reaping (its page tables and mappings are counted apart).</summary>
    Forks,
    /// <summary>A PMD mapping split into PTEs (__split_huge_pmd()).</summary>
    PmdSplits,
    /// <summary>A large folio split (split_huge_page_to_list_to_order()).</summary>
    FolioSplits,
    /// <summary>A page of a folio split: each mapping of it taken down and set again (try_to_migrate(), remove_migration_ptes()) and its struct page rewritten.</summary>
    SplitPages,
    /// <summary>A PTE read by khugepaged's scan or a collapse's isolation.</summary>
    ScanPtes,
    /// <summary>A collapse attempt that allocated its folio (collapse_huge_page()).</summary>
    CollapseAttempts,
}

/// <summary>The names scenarios and reports use for <see cref="KernelWork"/> units.</summary>
public static class KernelWorkNames
{
    static readonly NameTable<KernelWork> Table = new([
        "faults", "pages_zeroed", "pages_copied", "folio_allocs", "folio_frees", "pages_freed", "pte_batches", "ptes",
        "rmap_folios", "rmap_pages", "page_table_allocs", "page_table_frees", "fork_batches", "fork_ptes",
        "zap_batches", "zap_ptes", "tlb_flushes", "forks", "pmd_splits", "folio_splits", "split_pages", "scan_ptes", "collapse_attempts",
    ]);

    public const int Count = (int)KernelWork.CollapseAttempts + 1;

    public static string Name(KernelWork value) => Table.Name(value);

    public static IReadOnlyList<string> All => Table.All;

    public static bool TryParse(string name, out KernelWork value) => Table.TryParse(name, out value);
}
