namespace MthpSim.Core.Folio;

/// <summary>What a page frame currently is. Stored per PFN in <see cref="MemMap"/>.</summary>
public enum PageKind : byte
{
    /// <summary>Inside a free buddy block, not its first page.</summary>
    FreeTail = 0,
    /// <summary>First page of a free buddy block; its order is the block's order.</summary>
    FreeHead = 1,
    /// <summary>Part of an anonymous folio.</summary>
    Anon = 2,
    /// <summary>A PTE table page (counted in PageTables).</summary>
    PageTable = 3,
    /// <summary>Part of the huge zero folio.</summary>
    HugeZero = 4,
    /// <summary>Part of a shmem folio (swap-backed, in a shmem file's page cache).</summary>
    Shmem = 5,
    /// <summary>
    /// Kernel memory outside what the model tracks (slab caches, buffers of drivers), placed by
    /// <c>age unmovable|reclaimable</c>: never on the LRU, never migrated or freed.
    /// </summary>
    KernelPage = 6,
    /// <summary>
    /// A page of a program outside the scenario, pinned long-term (FOLL_LONGTERM: RDMA, io_uring
    /// buffers, VFIO), placed by <c>age pinned</c>: on the LRU, but compaction can never move it.
    /// </summary>
    Pinned = 7,
    /// <summary>
    /// A clean page of the page cache of a file outside the scenario, placed by <c>age pagecache</c>:
    /// movable (compaction moves it), and the first thing reclaim drops.
    /// </summary>
    FileCache = 8,
}

/// <summary>Per-page flag bits. Bits 0-3 are per page, bits 4-7 are folio flags kept on the head page.</summary>
[Flags]
public enum PageFlags : byte
{
    None = 0,
    /// <summary>PageAnonExclusive: this page is mapped only by one process and may be written without COW.</summary>
    AnonExclusive = 1,
    /// <summary>Scratch bit for the buddy allocator's free-list compaction.</summary>
    Seen = 2,
    /// <summary>folio_test_referenced(): PG_referenced, set by GUP (folio_mark_accessed(), gup-fast); smaps counts it as Referenced.</summary>
    Referenced = 1 << 2,
    /// <summary>folio_test_active(): PG_active, a second folio_mark_accessed() moves the folio to the active LRU.</summary>
    Active = 1 << 3,
    /// <summary>folio_test_partially_mapped()</summary>
    PartiallyMapped = 1 << 4,
    /// <summary>On the deferred split queue.</summary>
    DeferredQueued = 1 << 5,
    /// <summary>Lazily freed by MADV_FREE: !folio_test_swapbacked().</summary>
    LazyFree = 1 << 6,
    /// <summary>folio_test_dirty(): PG_dirty, set when a dirty PTE or PMD is taken down or by GUP with FOLL_TOUCH | FOLL_WRITE.</summary>
    Dirty = 1 << 7,
}
