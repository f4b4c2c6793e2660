using MthpSim.Core.Compaction;
using MthpSim.Core.PageAlloc;

namespace MthpSim.Core;

// mm/page_alloc.c: what an allocation above order 0 does when no free block fits.
public sealed partial class Kernel
{
    /// <summary>MAX_COMPACT_RETRIES</summary>
    const int MaxCompactRetries = 16;

    /// <summary>
    /// models __alloc_pages_slowpath() for order > 0: __GFP_KSWAPD_RECLAIM wakes kswapd (kcompactd when
    /// memory is free but fragmented); __GFP_DIRECT_RECLAIM compacts in the allocating task: costly
    /// orders (and non-movable requests) first with async compaction, then the retry loop with
    /// sync-light compaction (async under __GFP_NORETRY), which costly orders leave after one pass
    /// (no __GFP_RETRY_MAYFAIL) and orders 1-3 leave after escalating to sync-full.
    /// First of all it tries again above the min watermark (ALLOC_WMARK_MIN). Direct reclaim in the
    /// loop frees page cache, then swaps out (<see cref="DirectReclaimForCompaction"/>); the OOM killer
    /// for orders 1-3 is not modelled.
    /// </summary>
    int AllocPagesSlowpath(int order, MigrateType mt, Gfp gfp)
    {
        if ((gfp & Gfp.KswapdReclaim) != 0) WakeupKswapd(order, gfp);
        int got = RmqueueAbove(order, mt, WatermarkPages().Min, gfp);   // ALLOC_WMARK_MIN
        if (got >= 0 || (gfp & Gfp.DirectReclaim) == 0) return got;
        bool costly = order > CostlyOrder;
        var prio = CompactPriority.SyncLight;   // DEF_COMPACT_PRIORITY
        CompactResult result;
        if (costly || mt != MigrateType.Movable)
        {
            int pfn = DirectCompact(order, mt, CompactPriority.Async, out result);
            if (pfn >= 0) return pfn;
            if (costly && (gfp & Gfp.NoRetry) != 0)
            {
                if (result is CompactResult.Skipped or CompactResult.Deferred) return -1;
                prio = CompactPriority.Async;   // sync compaction could be very expensive: stay async
            }
        }
        for (int retries = 0; ;)
        {
            DirectReclaimForCompaction(order);
            int pfn = DirectCompact(order, mt, prio, out result);
            if (pfn >= 0) return pfn;
            if ((gfp & Gfp.NoRetry) != 0 || costly) return -1;
            // should_compact_retry()
            if (result == CompactResult.Skipped) return -1;
            if (result == CompactResult.Success && ++retries <= MaxCompactRetries) continue;
            if (prio == CompactPriority.SyncFull) return -1;
            prio--;
            retries = 0;
        }
    }

    /// <summary>
    /// models __alloc_pages_direct_reclaim() for a high order: reclaim goes on, a batch of
    /// SWAP_CLUSTER_MAX at a time, until compaction has the free memory it needs (compaction_ready(),
    /// should_continue_reclaim()) or a batch frees nothing; with that much free already it reclaims
    /// nothing. Clean page cache (age pagecache) goes first, as it needs no I/O; then the LRU lists,
    /// which with a swap device swap anonymous memory out (try_to_free_pages()); without one only
    /// lazily freed folios can go.
    /// </summary>
    void DirectReclaimForCompaction(int order)
    {
        var (min, low, _) = WatermarkPages();
        long ready = min + CompactGap(order) + (order > CostlyOrder ? low - min : 0);
        while (Buddy.FreePages <= ready)
        {
            if (NrFileCachePages > 0 && DropFileCache(SwapClusterMax) > 0) continue;
            long freed = Lru != null ? TryToFreePages() : ShrinkLazyFreeFolios(target: SwapClusterMax);
            if (freed == 0) break;
        }
    }
}
