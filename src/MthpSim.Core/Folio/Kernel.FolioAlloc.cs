using MthpSim.Core.Folio;
using MthpSim.Core.PageAlloc;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

public sealed partial class Kernel
{
    /// <summary>
    /// models vma_alloc_folio()/folio_alloc(): a zeroed folio with refcount 1, or -1. An order-0
    /// request that finds nothing free enters direct reclaim (__alloc_pages_slowpath(), reduced to
    /// its outcome: <see cref="DirectReclaimAlloc"/>); a larger one wakes kcompactd or compacts as
    /// GFP allows (<see cref="AllocPagesSlowpath"/>).
    /// </summary>
    internal int AllocFolio(int order, PageKind kind, Gfp gfp)
    {
        int pfn = AllocPages(order, GfpMigratetype(kind), gfp);
        if (pfn < 0) return -1;
        Map.InitFolio(pfn, order, kind);
        Work(Cost.KernelWork.FolioAllocs);
        return pfn;
    }

    /// <summary>
    /// <see cref="AllocFolio"/> of order 0 over and over, for as many folios as <paramref name="heads"/>
    /// holds, as long as each would be served by the fast path (above the low watermark, from the
    /// type's own free lists): fills heads from the start and returns how many it got, the caller
    /// taking the next one the usual way. Nothing else may allocate or free in between, so the
    /// caller needs no memcg charge that could fail or reclaim.
    /// </summary>
    internal int AllocSmallFolios(PageKind kind, Span<int> heads)
    {
        int got = AllocSmallPages(GfpMigratetype(kind), heads);
        InitSmallFolios(heads[..got], kind);
        Work(Cost.KernelWork.FolioAllocs, got);
        return got;
    }

    /// <summary><see cref="AllocPages"/> of order 0 over and over while each would be served by the fast path (see <see cref="AllocSmallFolios"/>).</summary>
    int AllocSmallPages(MigrateType mt, Span<int> pfns) => AllocPagesRun(0, mt, pfns);

    /// <summary><see cref="AllocFolio"/> of an order above 0 over and over, as <see cref="AllocSmallFolios"/> does for order 0.</summary>
    internal int AllocLargeFolios(int order, PageKind kind, Span<int> heads)
    {
        int got = AllocPagesRun(order, GfpMigratetype(kind), heads);
        foreach (int head in heads[..got]) Map.InitFolio(head, order, kind);
        Work(Cost.KernelWork.FolioAllocs, got);
        return got;
    }

    /// <summary><see cref="AllocPages"/> of <paramref name="order"/> over and over while each would be served by the fast path.</summary>
    int AllocPagesRun(int order, MigrateType mt, Span<int> pfns)
    {
        if (!SmallAllocationRuns || Buddy.PartialClaims > 0) return 0;
        long mark = _inReclaim ? NoWatermark : WmarkLow;
        // allocation j passes the watermark while free pages - j * 2^order - (2^order - 1) stay above it
        long room = mark == NoWatermark ? pfns.Length : (Buddy.FreePages - mark) >> order;
        if (room <= 0) return 0;
        return Buddy.AllocRun(order, pfns[..(int)Math.Min(pfns.Length, room)], mt);
    }

    /// <summary>Whether runs of order-0 allocations are taken as runs (tests turn it off to compare with one allocation at a time).</summary>
    internal bool SmallAllocationRuns { get; set; } = true;

    void InitSmallFolios(ReadOnlySpan<int> heads, PageKind kind)
    {
        for (int i = 0, n; i < heads.Length; i += n)
        {
            n = ConsecutiveFrames(heads, i);
            Map.InitSmallFolios(heads[i], n, kind);
        }
    }

    /// <summary>
    /// <see cref="AllocPageTable"/> over and over for <paramref name="mm"/>, outside any memory cgroup
    /// (nothing to charge), while each would be served by the fast path: fills tables from the start
    /// and returns how many it got.
    /// </summary>
    internal int AllocPageTables(Vma.MmStruct mm, Span<int> tables)
    {
        if (mm.Memcg != null) return 0;
        int got = AllocSmallPages(MigrateType.Unmovable, tables);
        InitSmallFolios(tables[..got], PageKind.PageTable);
        NrPageTablePages += got;
        mm.NrPtes += got;
        Work(Cost.KernelWork.PageTableAllocs, got);
        return got;
    }

    /// <summary>How many of <paramref name="heads"/> from <paramref name="i"/> on are consecutive frames (as the buddy allocator hands out a split block's pages).</summary>
    static int ConsecutiveFrames(ReadOnlySpan<int> heads, int i)
    {
        int n = 1;
        while (i + n < heads.Length && heads[i + n] == heads[i] + n) n++;
        return n;
    }

    /// <summary>
    /// models vma_alloc_folio() and folio_alloc_mpol() (shmem) under the default local policy, on this
    /// machine's one node: a PMD-sized folio is first asked of the local node alone with __GFP_NORETRY
    /// (alloc_pages_mpol(): compaction but no retries), and only when the gfp allows direct reclaim is
    /// the full request made again, so a failing THP fault compacts twice over.
    /// </summary>
    internal int VmaAllocFolio(int order, PageKind kind, Gfp gfp)
    {
        if (order != Geo.PmdOrder) return AllocFolio(order, kind, gfp);
        int pfn = AllocFolio(order, kind, gfp | Gfp.NoRetry);
        if (pfn >= 0 || (gfp & Gfp.DirectReclaim) == 0) return pfn;
        return AllocFolio(order, kind, gfp);
    }

    /// <summary>models pte_alloc_one(): a page table page, charged to the mm's cgroup (GFP_PGTABLE_USER has __GFP_ACCOUNT).</summary>
    internal int AllocPageTable(Vma.MmStruct mm)
    {
        int pfn = AllocPages(0, MigrateType.Unmovable, Gfp.Kernel);   // GFP_PGTABLE_USER has no __GFP_MOVABLE
        if (pfn < 0) return -1;
        Map.InitFolio(pfn, 0, PageKind.PageTable);
        if (!MemcgCharge(pfn, mm, Memcg.ChargeGfp.Kernel))
        {
            Map.ReleaseFolio(pfn);
            Buddy.Free(pfn, 0);
            return -1;
        }
        NrPageTablePages++;
        mm.NrPtes++;
        Work(Cost.KernelWork.PageTableAllocs);
        return pfn;
    }

    /// <summary>
    /// models __alloc_pages(): get_page_from_freelist() at the low watermark, then the slow path, which
    /// tries again at the min watermark before it reclaims or compacts. Reclaim itself allocates with
    /// no watermark (PF_MEMALLOC: ALLOC_NO_WATERMARKS).
    /// </summary>
    int AllocPages(int order, MigrateType mt, Gfp gfp)
    {
        if (_inReclaim) return RmqueueAbove(order, mt, NoWatermark, gfp);
        int pfn = RmqueueAbove(order, mt, WmarkLow, gfp);
        if (pfn >= 0) return pfn;
        if (order > 0) return AllocPagesSlowpath(order, mt, gfp);
        pfn = RmqueueAbove(0, mt, WatermarkPages().Min, gfp);
        if (pfn >= 0) return pfn;
        _inReclaim = true;
        try { return DirectReclaimAlloc(mt, gfp); } finally { _inReclaim = false; }
    }

    /// <summary>
    /// models get_page_from_freelist() for the one zone: zone_watermark_fast() against MARK, then
    /// rmqueue(), which may boost the watermarks. The kernel's wmark_pages() adds the boost to MARK,
    /// but the boost lasts only until kswapd, woken at once, has run; the model's kswapd runs when
    /// time passes, so a boost counted here would hold for whole statements: it is left out.
    /// </summary>
    int RmqueueAbove(int order, MigrateType mt, long mark, Gfp gfp)
    {
        // __zone_watermark_ok()'s other half, a free block of the order, is what Buddy.Alloc looks for anyway.
        if (mark != NoWatermark && Buddy.FreePages - ((1L << order) - 1) <= mark) return -1;
        int pfn = Buddy.Alloc(order, mt);
        if (Buddy.PartialClaims > 0) BoostWatermark(gfp);
        return pfn;
    }

    /// <summary>
    /// models gfp_migratetype(): user memory (anon, shmem, the swap cache) is allocated
    /// GFP_HIGHUSER_MOVABLE; the huge zero folio drops __GFP_MOVABLE; page tables never had it.
    /// </summary>
    static MigrateType GfpMigratetype(PageKind kind) => kind is PageKind.Anon or PageKind.Shmem ? MigrateType.Movable : MigrateType.Unmovable;

    /// <summary>In reclaim (PF_MEMALLOC): allocations ignore the watermarks, and an order-0 one that fails does not reclaim again.</summary>
    bool _inReclaim;

    /// <summary>ALLOC_NO_WATERMARKS, as a mark for <see cref="RmqueueAbove"/>.</summary>
    const long NoWatermark = long.MinValue;

    /// <summary>models folio_prealloc() and the like: an order-0 folio charged with GFP_KERNEL to the mm's cgroup (or <paramref name="target"/>), or -1.</summary>
    internal int AllocChargedPage(PageKind kind, Vma.MmStruct? mm, Memcg.MemCgroup? target = null)
    {
        int pfn = AllocFolio(0, kind, Gfp.Kernel);
        if (pfn < 0 || MemcgCharge(pfn, mm, Memcg.ChargeGfp.Kernel, target)) return pfn;
        FolioPut(pfn);
        return -1;
    }

    /// <summary>models pte_free()</summary>
    internal void FreePageTable(Vma.MmStruct mm, int pfn)
    {
        MemcgUncharge(pfn, 1, kmem: true);
        Map.ReleaseFolio(pfn);
        Buddy.Free(pfn, 0);
        NrPageTablePages--;
        mm.NrPtes--;
        Work(Cost.KernelWork.PageTableFrees);
    }

    /// <summary>models folio_put_refs(): drops references, freeing the folio when the last one goes.</summary>
    internal void FolioPut(int head, int refs = 1)
    {
        Map.AddRef(head, -refs);
        int rc = Map.Refcount(head);
        if (rc > 0) return;
        if (rc < 0) throw new InvalidOperationException($"folio {head:x} refcount went negative");
        FreeFolio(head);
    }

    /// <summary>
    /// <see cref="FreeFolio"/> of each order-0 folio at [pfn, pfn + n) in page order, whose last
    /// references the caller dropped: the per-folio work page by page, the buddy allocator's in one run.
    /// </summary>
    void FreeSmallRun(int pfn, int n)
    {
        if (Lru == null && _memcgOfFrameBlock == null) Map.ReleaseSmallFolios(pfn, n);   // nothing else to undo per page
        else
            for (int p = pfn; p < pfn + n; p++)
            {
                LruDel(p);
                MemcgUncharge(p, 1);
                Map.ReleaseFolio(p);
            }
        Buddy.FreeRun(pfn, n);
        Work(Cost.KernelWork.FolioFrees, n);
        Work(Cost.KernelWork.PagesFreed, n);
    }

    /// <summary>models __folio_put() → free_pages_prepare(): unqueue from deferred split, fix stats, free.</summary>
    void FreeFolio(int head)
    {
        int order = Map.Order(head);
        if (order > 0)
        {
            if (Map.Test(head, PageFlags.DeferredQueued)) DeferredUnqueue(head);
            // Only a folio that got its anon rmap (folio->mapping) was counted in nr_anon.
            if (Map.Kind(head) == PageKind.Anon && Map.LargeAnonVma(head) != 0) Stats.Count(order, MthpStat.NrAnon, -1);
        }
        LruDel(head);
        MemcgUncharge(head, 1 << order);
        Map.ReleaseFolio(head);
        Buddy.Free(head, order);
        Work(Cost.KernelWork.FolioFrees);
        Work(Cost.KernelWork.PagesFreed, 1L << order);
    }
}
