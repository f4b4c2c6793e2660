using MthpSim.Core.Compaction;
using MthpSim.Core.Folio;
using MthpSim.Core.PageAlloc;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// mm/compaction.c: direct compaction and compact_zone() with its two scanners.
public sealed partial class Kernel
{
    /// <summary>PAGE_ALLOC_COSTLY_ORDER</summary>
    const int CostlyOrder = 3;
    /// <summary>COMPACT_MAX_DEFER_SHIFT</summary>
    const int CompactMaxDeferShift = 6;
    /// <summary>sysctl_extfrag_threshold's default.</summary>
    const int ExtfragThreshold = 500;

    ZoneCompaction? _compaction;
    ZoneCompaction ZoneCompact => _compaction ??= new ZoneCompaction(Buddy.NrPageblocks, LastBlockStart);
    long LastBlockStart => (Buddy.NrPageblocks - 1) << Buddy.PageblockOrder;

    /// <summary>
    /// models __alloc_pages_direct_compact(): compaction in the allocating task, then an allocation.
    /// compact_stall counts every attempt that was not skipped (a deferred one included).
    /// </summary>
    int DirectCompact(int order, MigrateType mt, CompactPriority prio, out CompactResult result)
    {
        result = TryToCompactPages(order, mt, prio);
        if (result == CompactResult.Skipped) return -1;
        Stats.Count(VmEvent.CompactStall);
        int pfn = RmqueueAbove(order, mt, WatermarkPages().Min, Gfp.None);
        if (pfn >= 0)
        {
            ZoneCompact.BlockskipFlush = false;
            CompactionDeferReset(order, allocSuccess: true);
            Stats.Count(VmEvent.CompactSuccess);
            return pfn;
        }
        Stats.Count(VmEvent.CompactFail);
        return -1;
    }

    /// <summary>models try_to_compact_pages() over the one zone.</summary>
    CompactResult TryToCompactPages(int order, MigrateType mt, CompactPriority prio)
    {
        if (prio > CompactPriority.SyncFull && CompactionDeferred(order)) return CompactResult.Deferred;
        var cc = new CompactControl(Buddy.MaxOrder)
        {
            Order = order, Migratetype = mt, Direct = true,
            Mode = prio == CompactPriority.Async ? MigrateMode.Async : MigrateMode.SyncLight,
            WholeZone = prio == CompactPriority.SyncFull, IgnoreSkipHint = prio == CompactPriority.SyncFull,
            IgnoreBlockSuitable = prio == CompactPriority.SyncFull,
        };
        var status = CompactZone(cc);
        if (status == CompactResult.Success) CompactionDeferReset(order, allocSuccess: false);
        else if (prio != CompactPriority.Async && status is CompactResult.Complete or CompactResult.PartialSkipped) DeferCompaction(order);
        return (CompactResult)Math.Max((int)CompactResult.Skipped, (int)status);
    }

    /// <summary>models compact_zone(): the migrate scanner walks up from the zone's start, the free scanner down from its end, until a free block of the order exists or they meet.</summary>
    CompactResult CompactZone(CompactControl cc)
    {
        var zc = ZoneCompact;
        if (cc.Order > 0)
        {
            var suit = SuitAllocationOrder(cc.Order, async: cc.Mode == MigrateMode.Async);
            if (suit != CompactResult.Continue) return suit;
        }
        if (cc.Order >= 0 && CompactionRestarting(cc.Order)) ResetIsolationSuitable();
        int sync = cc.Mode == MigrateMode.Async ? 0 : 1;
        if (cc.WholeZone) { cc.MigratePfn = 0; cc.FreePfn = LastBlockStart; }
        else { cc.MigratePfn = zc.CachedMigratePfn[sync]; cc.FreePfn = zc.CachedFreePfn; }
        if (cc.MigratePfn == 0) cc.WholeZone = true;   // compact_init_migrate_pfn: a scan from the start covers the zone

        LruAddDrain();
        CompactResult ret;
        var isolated = new List<int>();
        while ((ret = CompactFinished(cc)) is CompactResult.Continue or CompactResult.NoSuitablePage)
        {
            isolated.Clear();
            if (!IsolateMigratepages(cc, isolated)) continue;
            if (!MigratePages(cc, isolated) && !ScannersMet(cc)) { ret = CompactResult.Contended; break; }
        }
        long highestReleased = ReleaseFreepages(cc);
        if (!ScannersMet(cc))   // (when they met, the cached positions went back to the zone's ends)
        {
            // update_pageblock_skip() lowers the free scanner's cached position past the blocks it
            // scanned whole; release_free_list() raises it to the highest block pages went back to.
            zc.CachedFreePfn = Math.Max(Math.Min(zc.CachedFreePfn, cc.FreePfn), highestReleased);
            zc.CachedMigratePfn[sync] = Math.Max(zc.CachedMigratePfn[sync], cc.MigratePfn);
        }
        Stats.Count(VmEvent.CompactMigrateScanned, cc.MigrateScanned);
        Stats.Count(VmEvent.CompactFreeScanned, cc.FreeScanned);
        return ret;
    }

    bool ScannersMet(CompactControl cc) => cc.FreePfn >> Buddy.PageblockOrder <= cc.MigratePfn >> Buddy.PageblockOrder;

    /// <summary>models __compact_finished(); checked between pageblocks (the model isolates a pageblock at a time).</summary>
    CompactResult CompactFinished(CompactControl cc)
    {
        if (ScannersMet(cc))
        {
            var zc = ZoneCompact;
            zc.CachedMigratePfn[0] = zc.CachedMigratePfn[1] = 0;   // reset_cached_positions()
            zc.CachedFreePfn = LastBlockStart;
            if (cc.Direct) zc.BlockskipFlush = true;
            return cc.WholeZone ? CompactResult.Complete : CompactResult.PartialSkipped;
        }
        if (cc.Proactive) return FragmentationScoreZone() > ProactiveWmark(low: true) ? CompactResult.Continue : CompactResult.Success;
        if (cc.Order == -1) return CompactResult.Continue;
        for (int o = cc.Order; o <= Buddy.MaxOrder; o++)
        {
            if (Buddy.HasFreeBlock(o, cc.Migratetype)) return CompactResult.Success;
            if (Buddy.FindSuitableFallback(o, cc.Migratetype, claimable: true) >= 0) return CompactResult.Success;
        }
        return CompactResult.NoSuitablePage;
    }

    /// <summary>
    /// models compaction_suit_allocation_order(): Success when the allocation would already succeed
    /// (no work), Skipped when free memory is too low for compaction to help, else Continue.
    /// </summary>
    CompactResult SuitAllocationOrder(int order, bool async)
    {
        long min = WatermarkPages().Min;
        if (Buddy.WatermarkOk(order, min)) return CompactResult.Success;
        if (order > CostlyOrder && async && !Buddy.WatermarkOk(0, min + CompactGap(order))) return CompactResult.Skipped;
        return CompactionSuitable(order, min) ? CompactResult.Continue : CompactResult.Skipped;
    }

    /// <summary>compact_gap(): twice the order's pages, the free memory migration needs to work with.</summary>
    static long CompactGap(int order) => 2L << order;

    /// <summary>
    /// models compaction_suitable(): an order-0 watermark with compact_gap() on top (and low − min for
    /// costly orders), and for costly orders a fragmentation index above extfrag_threshold (at or
    /// below it the failure is lack of memory, which reclaim must fix, not compaction).
    /// </summary>
    bool CompactionSuitable(int order, long mark)
    {
        var (min, low, _) = WatermarkPages();
        long wmark = mark + CompactGap(order) + (order > CostlyOrder ? low - min : 0);
        if (!Buddy.WatermarkOk(0, wmark)) return false;
        if (order > CostlyOrder)
        {
            int fragindex = FragmentationIndex(order);
            if (fragindex >= 0 && fragindex <= ExtfragThreshold) return false;
        }
        return true;
    }

    /// <summary>models __fragmentation_index(): 0 when nothing is free, -1000 when a block of the order is, else toward 1000 as free memory is in smaller pieces.</summary>
    int FragmentationIndex(int order)
    {
        long blocks = Buddy.FreeBlocksTotal();
        if (blocks == 0) return 0;
        if (Buddy.FreePagesInBlocksOf(order) > 0) return -1000;
        return (int)(1000 - (1000 + Buddy.FreePages * 1000 / (1L << order)) / blocks);
    }

    /// <summary>
    /// models isolate_migratepages(): from the migrate scanner's position, the first pageblock that is
    /// a suitable source and not marked to skip; its movable folios go to ISOLATED. False when the
    /// scanner reached the free scanner's block without isolating anything.
    /// </summary>
    bool IsolateMigratepages(CompactControl cc, List<int> isolated)
    {
        var zc = ZoneCompact;
        int pbo = Buddy.PageblockOrder;
        for (long block = cc.MigratePfn >> pbo << pbo; block < cc.FreePfn; block += Buddy.PageblockPages)
        {
            cc.MigratePfn = block + Buddy.PageblockPages;
            if (!cc.IgnoreSkipHint && zc.Skip[(int)(block >> pbo)]) continue;
            if (!SuitableMigrationSource(cc, block)) continue;
            IsolateMigratepagesBlock(cc, block, isolated);
            if (isolated.Count == 0) { if (!cc.IgnoreSkipHint) zc.Skip[(int)(block >> pbo)] = true; continue; }
            return true;
        }
        return false;
    }

    /// <summary>models suitable_migration_source()</summary>
    bool SuitableMigrationSource(CompactControl cc, long block)
    {
        if (block < Buddy.Frontier && Map.Kind((int)block) is not (PageKind.FreeHead or PageKind.FreeTail)
            && Map.Order((int)block) >= Buddy.PageblockOrder) return false;
        if (cc.Mode != MigrateMode.Async || !cc.Direct) return true;
        var blockType = Buddy.BlockType(block);
        return cc.Migratetype == MigrateType.Movable ? blockType == MigrateType.Movable : blockType == cc.Migratetype;
    }

    /// <summary>
    /// models isolate_migratepages_block() over a whole pageblock: free blocks and folios that are
    /// too large, off the LRU or pinned are stepped over. Async direct compaction works in chunks of
    /// the order and isolates nothing from a chunk where anything failed (skip_on_failure).
    /// </summary>
    void IsolateMigratepagesBlock(CompactControl cc, long block, List<int> isolated)
    {
        long end = Math.Min(block + Buddy.PageblockPages, Buddy.Frontier);
        int chunk = cc.Mode == MigrateMode.Async && cc.Direct && cc.Order > 0 ? 1 << cc.Order : 0;
        int chunkStart = isolated.Count;
        long chunkEnd = chunk > 0 ? block + chunk : long.MaxValue;
        bool chunkFailed = false;
        long pfn = block;
        while (pfn < end)
        {
            if (pfn >= chunkEnd)
            {
                if (chunkFailed) isolated.RemoveRange(chunkStart, isolated.Count - chunkStart);
                chunkStart = isolated.Count;
                chunkEnd = (pfn & ~(long)(chunk - 1)) + chunk;
                chunkFailed = false;
            }
            var (kind, order) = Map.KindAndOrder((int)pfn);
            int nr = 1 << order;
            if (kind is PageKind.FreeHead) { cc.MigrateScanned += nr; pfn += nr; continue; }
            if (kind is PageKind.FreeTail) { cc.MigrateScanned++; pfn++; continue; }
            int head = (int)pfn & ~(nr - 1);
            long next = head + nr;
            cc.MigrateScanned += next - pfn;
            pfn = next;
            if (!CanIsolateForMigration(cc, head, kind, order))
            {
                chunkFailed = true;
                if (chunk > 0 && pfn < chunkEnd) pfn = chunkEnd;   // the rest of the chunk is not looked at
                continue;
            }
            isolated.Add(head);
            Stats.Count(VmEvent.CompactIsolated, nr);
        }
        if (chunkFailed) isolated.RemoveRange(chunkStart, isolated.Count - chunkStart);
    }

    /// <summary>
    /// What isolate_migratepages_block() and migration let through: folios on the LRU below the
    /// target order (and below pageblock_order), with no references beyond their mappings, the page
    /// cache's and the swap cache's.
    /// </summary>
    bool CanIsolateForMigration(CompactControl cc, int head, PageKind kind, int order)
    {
        if (order > 0 && ((cc.Order != -1 && order >= cc.Order) || order >= Buddy.PageblockOrder)) return false;
        if (kind == PageKind.FileCache) return true;   // clean page cache of other files: the page cache's reference only
        if (kind is not (PageKind.Anon or PageKind.Shmem)) return false;   // !PageLRU: page tables, kernel memory, the huge zero folio; Pinned fails the pin test
        int expected = ExpectedRefcount(head) + (kind == PageKind.Shmem && ShmemOwner(head) != null ? 1 << order : 0);
        return Map.Refcount(head) == expected;
    }

    /// <summary>
    /// models migrate_pages() with compaction_alloc(): each isolated folio moves to a free page the
    /// free scanner found. A large folio with no target of its order is split and its pages moved;
    /// a small one ends the batch (-ENOMEM). Returns false when targets ran out.
    /// </summary>
    bool MigratePages(CompactControl cc, List<int> isolated)
    {
        long lo = isolated[0], hi = isolated[^1] + (1L << Map.Order(isolated[^1]));
        var leaves = MappingLeaves(lo, hi);
        for (int i = 0; i < isolated.Count; i++)
        {
            int src = isolated[i];
            int order = Map.Order(src);
            int dst = CompactionAlloc(cc, order);
            if (dst < 0)
            {
                if (order > 0 && SplitFolio(src))
                {
                    for (int p = src + (1 << order) - 1; p >= src; p--)
                        if (Map.Kind(p) is PageKind.Anon or PageKind.Shmem && Map.Refcount(p) > 0) isolated.Insert(i + 1, p);
                    leaves = MappingLeaves(lo, hi);
                    continue;
                }
                Stats.Count(VmEvent.PgmigrateFail, 1 << order);
                return false;
            }
            MigrateFolio(src, dst, leaves);
            Stats.Count(VmEvent.PgmigrateSuccess, 1 << order);
        }
        return true;
    }

    /// <summary>models compaction_alloc(): the smallest isolated free page that fits, split down; isolates more once if none does.</summary>
    int CompactionAlloc(CompactControl cc, int order)
    {
        for (int attempt = 0; attempt < 2; attempt++)
        {
            for (int j = order; j <= Buddy.MaxOrder; j++)
            {
                var list = cc.FreePages[j];
                if (list.Count == 0) continue;
                int pfn = list[^1];
                list.RemoveAt(list.Count - 1);
                while (j > order)
                {
                    j--;
                    cc.FreePages[j].Add(pfn + (1 << j));
                }
                cc.NrFreePages -= 1L << order;
                return pfn;
            }
            IsolateFreepages(cc, 1L << order);
        }
        return -1;
    }

    /// <summary>
    /// models isolate_freepages(): pageblocks from the free scanner's position down to the migrate
    /// scanner's, suitable targets only, whole free blocks taken until WANT pages are held.
    /// </summary>
    void IsolateFreepages(CompactControl cc, long want)
    {
        var zc = ZoneCompact;
        int pbo = Buddy.PageblockOrder;
        long min = WatermarkPages().Min;
        long low = (cc.MigratePfn + Buddy.PageblockPages - 1) >> pbo << pbo;
        for (long block = cc.FreePfn; block >= low; block -= Buddy.PageblockPages)
        {
            cc.FreePfn = block;
            if (!cc.IgnoreSkipHint && zc.Skip[(int)(block >> pbo)]) { cc.FreePfn = block - Buddy.PageblockPages; continue; }
            if (!SuitableMigrationTarget(cc, block)) { cc.FreePfn = block - Buddy.PageblockPages; continue; }
            long end = block + Buddy.PageblockPages;
            long pfn = block;
            while (pfn < end && cc.NrFreePages < want)
            {
                var (kind, order) = Map.KindAndOrder((int)pfn);
                if (kind == PageKind.FreeHead && Buddy.WatermarkOk(0, min + (1L << order)))
                {
                    if (order >= pbo - 1 && Buddy.BlockType(pfn) != MigrateType.Movable) Buddy.SetBlockType(block, MigrateType.Movable);
                    Buddy.IsolateFreeBlock((int)pfn, order);
                    cc.FreePages[order].Add((int)pfn);
                    cc.NrFreePages += 1L << order;
                    Stats.Count(VmEvent.CompactIsolated, 1L << order);
                }
                long step = kind is PageKind.FreeTail ? 1 : 1L << order;
                cc.FreeScanned += step;
                pfn = (pfn & ~(step - 1)) + step;
            }
            if (pfn >= end)
            {
                if (!cc.IgnoreSkipHint) zc.Skip[(int)(block >> pbo)] = true;   // update_pageblock_skip(): fully scanned
                cc.FreePfn = block - Buddy.PageblockPages;
            }
            if (cc.NrFreePages >= want) return;
        }
    }

    /// <summary>models suitable_migration_target(): not a block whose first page is a free block the request could use whole; movable blocks unless told to ignore the type.</summary>
    bool SuitableMigrationTarget(CompactControl cc, long block)
    {
        if (block + Buddy.PageblockPages > Buddy.Frontier) return false;   // never handed out: one free block larger than any request breaks up
        var (kind, order) = Map.KindAndOrder((int)block);
        if (kind == PageKind.FreeHead && order >= (cc.Order > 0 ? cc.Order : Buddy.PageblockOrder)) return false;
        return cc.IgnoreBlockSuitable || Buddy.BlockType(block) == MigrateType.Movable;
    }

    /// <summary>models release_free_list(): isolated free pages not used go back; returns the highest pageblock they were in.</summary>
    long ReleaseFreepages(CompactControl cc)
    {
        long highest = 0;
        for (int o = 0; o < cc.FreePages.Length; o++)
        {
            foreach (int pfn in cc.FreePages[o])
            {
                Buddy.Free(pfn, o);
                highest = Math.Max(highest, (long)pfn >> Buddy.PageblockOrder << Buddy.PageblockOrder);
            }
            cc.FreePages[o].Clear();
        }
        cc.NrFreePages = 0;
        return highest;
    }

    /// <summary>models compaction_deferred(): after a failure, 2^defer_shift − 1 attempts at that order or above are skipped.</summary>
    bool CompactionDeferred(int order)
    {
        var zc = ZoneCompact;
        if (order < zc.OrderFailed) return false;
        if (++zc.Considered >= 1 << zc.DeferShift)
        {
            zc.Considered = 1 << zc.DeferShift;
            return false;
        }
        return true;
    }

    /// <summary>models defer_compaction()</summary>
    void DeferCompaction(int order)
    {
        var zc = ZoneCompact;
        zc.Considered = 0;
        zc.DeferShift = Math.Min(zc.DeferShift + 1, CompactMaxDeferShift);
        zc.OrderFailed = Math.Min(zc.OrderFailed, order);
    }

    /// <summary>models compaction_defer_reset()</summary>
    void CompactionDeferReset(int order, bool allocSuccess)
    {
        var zc = ZoneCompact;
        if (allocSuccess) { zc.Considered = 0; zc.DeferShift = 0; }
        if (order >= zc.OrderFailed) zc.OrderFailed = order + 1;
    }

    /// <summary>models compaction_restarting(): deferred as long as it can be, the next attempt starts afresh.</summary>
    bool CompactionRestarting(int order)
    {
        var zc = ZoneCompact;
        return order >= zc.OrderFailed && zc.DeferShift == CompactMaxDeferShift && zc.Considered >= 1 << CompactMaxDeferShift;
    }

    /// <summary>
    /// models __reset_isolation_suitable(): when a direct compactor's scanners met, clears the skip
    /// hints of blocks that hold a page on the LRU or a free page (sampled every 8th page) and moves
    /// the cached scanner positions back to the zone's ends.
    /// </summary>
    void ResetIsolationSuitable()
    {
        var zc = ZoneCompact;
        if (!zc.BlockskipFlush) return;
        zc.BlockskipFlush = false;
        int pbo = Buddy.PageblockOrder;
        for (long b = 0; b < Buddy.NrPageblocks; b++)
        {
            if (!zc.Skip[(int)b]) continue;
            long start = b << pbo, end = Math.Min(start + Buddy.PageblockPages, Buddy.Frontier);
            if (start < Buddy.Frontier && Map.Kind((int)start) is not (PageKind.FreeHead or PageKind.FreeTail) && Map.Order((int)start) >= pbo) continue;
            for (long p = start; p < end; p += 1 << CostlyOrder)
                if (Map.Kind((int)p) is PageKind.FreeHead or PageKind.FreeTail || PageAlloc.BuddyAllocator.IsLruKind(Map.Kind((int)p)))
                {
                    zc.Skip[(int)b] = false;
                    break;
                }
            if (start >= Buddy.Frontier) zc.Skip[(int)b] = false;
        }
        zc.CachedMigratePfn[0] = zc.CachedMigratePfn[1] = 0;
        zc.CachedFreePfn = LastBlockStart;
    }
}
