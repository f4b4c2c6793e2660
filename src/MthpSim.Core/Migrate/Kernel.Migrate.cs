using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;

namespace MthpSim.Core;

// mm/migrate.c: moving a folio to another page frame, as compaction asks.
public sealed partial class Kernel
{
    /// <summary>A PTE that maps a page: its table and its index in it.</summary>
    readonly record struct PteLeaf(PmdSlot Slot, int Index);

    /// <summary>
    /// Every PTE of every process that maps a page frame in [lo, hi): what the rmap walks of
    /// try_to_migrate() and remove_migration_ptes() would visit. The model keeps no rmap for small
    /// folios without swap, so it walks the page tables, once per pageblock compacted.
    /// </summary>
    List<PteLeaf> MappingLeaves(long lo, long hi)
    {
        var leaves = new List<PteLeaf>();
        foreach (var mm in _mms)
            foreach (var (_, slot) in mm.PageTables.Ordered())
            {
                if (slot.Kind != PmdKind.Table || slot.Ptes is not { } ptes) continue;
                for (int i = 0; i < ptes.Length; i++)
                {
                    ulong pte = ptes[i];
                    if (!Pte.IsNormal(pte)) continue;
                    int pfn = Pte.Pfn(pte);
                    if (pfn >= lo && pfn < hi) leaves.Add(new PteLeaf(slot, i));
                }
            }
        return leaves;
    }

    /// <summary>
    /// models migrate_folio_unmap() + migrate_folio_move(): the folio's pages, state and place on the
    /// LRU, in its memcg, the deferred split queue, the page cache and the swap cache go to the free
    /// frames at DST (folio_migrate_mapping() repoints the cache's slots);
    /// every PTE that mapped it maps the copy with the same bits (migration entries keep young and
    /// dirty on x86); the old frames are freed.
    /// </summary>
    void MigrateFolio(int src, int dst, List<PteLeaf> leaves)
    {
        int order = Map.Order(src), nr = 1 << order;
        var kind = Map.Kind(src);
        Map.MoveFolio(src, dst);
        MemcgMigrate(src, dst, nr);
        if (Lru != null) Lru.Replace(LruvecOf(dst), src, dst);
        if (SmallRmap != null)
            for (int i = 0; i < nr; i++)
            {
                SmallRmap.Set(dst + i, SmallRmap.AnonVma(src + i), SmallRmap.Index(src + i));
                SmallRmap.Clear(src + i);
            }
        if (order > 0) DeferredReplace(src, dst);
        if (InSwapCache(src))
        {
            int off = SwapCache!.OffsetOf(src);
            SwapCache.Move(src, dst);
            for (int i = 0; i < nr; i++) SwapInfo!.ReplaceCache(off + i, dst);
        }
        if (kind == PageKind.Shmem && _shmemOwner.Remove(src, out var owner))
        {
            _shmemOwner.Set(dst, owner.File, owner.Index);
            owner.File.Cache.Insert(owner.Index, dst, nr);
            SettleXaNodes(owner.File, null);   // in place
            if (_notUptodate.Remove(src)) _notUptodate.Add(dst);   // folio_migrate_flags() copies PG_uptodate
        }
        // try_to_migrate_one() takes each entry down (ptep_clear_flush(): its block unfolds);
        // remove_migration_pte() sets each back alone (set_pte_at(): the last of an aligned block may fold it)
        bool Maps(ulong pte) => Pte.IsNormal(pte) && Pte.Pfn(pte) >= src && Pte.Pfn(pte) < src + nr;
        foreach (var (slot, i) in leaves)
            if (Maps(slot.Ptes![i])) ContTryUnfold(slot, i);
        foreach (var (slot, i) in leaves)
        {
            var ptes = slot.Ptes!;
            if (Maps(ptes[i]))
            {
                ptes[i] = Pte.WithPfn(ptes[i], dst + (Pte.Pfn(ptes[i]) - src));
                ContTryFold(slot, i);
            }
        }
        Buddy.Free(src, order);
    }
}
