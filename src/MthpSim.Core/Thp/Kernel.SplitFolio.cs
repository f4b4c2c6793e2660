using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

public sealed partial class Kernel
{
    /// <summary>
    /// models split_folio() → __folio_split() to order 0: the folio must have no references beyond its
    /// mappings (can_split_folio(), checked before anything is unmapped), then its mappings are taken
    /// down (unmap_folio(): PMDs split first; dirty entries make the folio dirty) and every page
    /// becomes an order-0 folio.
    /// On remap, mapped pages that hold only zeroes are replaced by the shared zero page and freed
    /// (try_to_map_unused_to_zeropage()); pages nobody maps are freed. A shmem folio splits the file's
    /// way (<see cref="ShmemSplitFolio"/>, uniformly). Returns false when it fails.
    /// </summary>
    internal bool SplitFolio(int head)
    {
        int order = Map.Order(head);
        if (order == 0) return true;
        if (Map.Kind(head) == PageKind.Shmem && ShmemOwner(head) != null) return ShmemSplitFolio(head, head, uniform: true) != null;
        if (Map.Kind(head) != PageKind.Anon) return false;   // the huge zero folio is never split
        // A PMD mapping holds one reference as it counts one mapping, so this holds before and after PMD splits.
        if (Map.Refcount(head) != ExpectedRefcount(head))
        {
            Stats.Count(order, MthpStat.SplitFailed);
            if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpSplitPageFailed);
            return false;
        }
        var mappings = AnonFolioMappings(head);
        QueueIfUnmapLeavesPartial(head, mappings);
        foreach (var (vma, addr) in mappings)
        {
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr))!;
            if (slot.Kind == PmdKind.Huge) SplitHugePmd(vma, slot, addr & ~((ulong)Geo.PmdSize - 1));
        }
        // try_to_migrate_one() takes every PTE down (ptep_clear_flush(): a folded block unfolds, and
        // the pages come back as small folios, which never fold)
        foreach (var (vma, addr) in mappings) ContTryUnfold(vma.Mm.PageTables.Find(PmdIndex(addr))!, PteIndex(addr));
        // try_to_migrate_one(): a dirty PTE taken down makes the folio dirty; the PTEs come back with their own bits.
        foreach (var (vma, addr) in mappings)
            if (Pte.IsDirty(vma.Mm.PageTables.Find(PmdIndex(addr))!.Ptes![PteIndex(addr)])) { Map.Set(head, PageFlags.Dirty); break; }
        Stats.Count(order, MthpStat.Split);
        Work(Cost.KernelWork.FolioSplits);
        Work(Cost.KernelWork.SplitPages, 1 << order);
        if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpSplitPage);
        var lf = Map.Large(head);
        var (anonVma, anonIndex) = (lf.AnonVma, lf.AnonIndex);
        // folio_test_anon(): only a folio that got an anon rmap counts in nr_anon; one in the swap cache
        // that no process mapped yet (read ahead, or a shmem folio written out) never did
        if (anonVma != 0) Stats.Count(order, MthpStat.NrAnon, -1);
        // __folio_split(): off the queue if still on it, and no longer partially mapped either way
        DeferredUnqueue(head);
        int nr = 1 << order;
        int swapOffset = InSwapCache(head) ? SwapCache!.OffsetOf(head) : 0;
        Map.SplitToOrder0(head);
        LruSplit(head, nr, anonVma, anonIndex);
        for (int p = head; p < head + nr; p++) Map.AddRef(p, Map.PteMapcount(p));
        if (swapOffset != 0)
        {
            // Each new folio takes its page's slot in the swap cache, and the cache's reference with it.
            SwapCache!.Remove(head, nr);
            for (int i = 0; i < nr; i++)
            {
                SwapCache.Add(head + i, swapOffset + i, 1);
                SwapInfo!.ReplaceCache(swapOffset + i, head + i);
                Map.AddRef(head + i, 1);
            }
        }
        foreach (var (vma, addr) in mappings)
        {
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr))!;
            int idx = PteIndex(addr);
            int pfn = Pte.Pfn(slot.Ptes![idx]);
            if (Map.Content(pfn) != 0) continue;
            slot.Ptes[idx] = Pte.ZeroPage;
            vma.Mm.Rss[(int)RssMember.AnonPages]--;
            FolioRemoveRmapPtes(pfn, pfn, 1, vma.Mm);
            FolioPut(pfn);
        }
        for (int p = head; p < head + nr; p++)
        {
            // free_folio_and_swap_cache() of the new folios nobody maps; not of the first, which the
            // caller holds (__folio_split() skips it): unmapped, it stays in the swap cache (live too)
            if (swapOffset != 0 && p != head) FreeSwapCache(p);
            if (Map.Kind(p) == PageKind.Anon && Map.Order(p) == 0 && Map.Refcount(p) == 0 && Map.PteMapcount(p) == 0)
                FreeFolio(p);
        }
        return true;
    }

    /// <summary>
    /// unmap_folio() removes a folio's PTE mappings one at a time (try_to_migrate_one()), so a folio
    /// mapped by PTEs in two or more pages is partially mapped after the first removal and gets queued
    /// for deferred split (split_deferred counts), to be dequeued by the split itself. PMD mappings are
    /// frozen whole first (__split_huge_pmd_locked(freeze)) and never look partial. Checked live: a
    /// MADV_FREE split of a 64K folio counts split_deferred once.
    /// </summary>
    void QueueIfUnmapLeavesPartial(int head, List<(Vma.Vma Vma, ulong Addr)> mappings)
    {
        if (Map.Test(head, PageFlags.PartiallyMapped) || Map.EntireMapcount(head) > 0) return;
        var remaining = new Dictionary<int, int>();
        foreach (var (vma, addr) in mappings)
        {
            int pfn = ResolvePfn(vma.Mm, addr, out _);
            remaining[pfn] = remaining.GetValueOrDefault(pfn) + 1;
        }
        int mappedPages = remaining.Count;
        foreach (var (vma, addr) in mappings)
        {
            int pfn = ResolvePfn(vma.Mm, addr, out _);
            if (--remaining[pfn] > 0) continue;
            if (--mappedPages > 0) DeferredSplitFolio(head, partiallyMapped: true);
            return;
        }
    }
}
