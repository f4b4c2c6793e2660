using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

public sealed partial class Kernel
{
    /// <summary>
    /// models split_folio() → __folio_split() to order 0: PMD mappings are split first (unmap_folio()),
    /// the folio must have no references beyond its mappings, then every page becomes an order-0 folio.
    /// On remap, mapped pages that hold only zeroes are replaced by the shared zero page and freed
    /// (try_to_map_unused_to_zeropage()); pages nobody maps are freed. Returns false when it fails.
    /// </summary>
    internal bool SplitFolio(int head)
    {
        int order = Map.Order(head);
        if (order == 0) return true;
        if (Map.Kind(head) != PageKind.Anon) return false;   // the huge zero folio is never split
        var mappings = AnonFolioMappings(head);
        foreach (var (vma, addr) in mappings)
        {
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr))!;
            if (slot.Kind == PmdKind.Huge) SplitHugePmd(vma, slot, addr & ~((ulong)Geo.PmdSize - 1));
        }
        if (Map.Refcount(head) != Map.FolioMapcount(head))
        {
            Stats.Count(order, MthpStat.SplitFailed);
            if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpSplitPageFailed);
            return false;
        }
        Stats.Count(order, MthpStat.Split);
        if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpSplitPage);
        Stats.Count(order, MthpStat.NrAnon, -1);
        if (Map.Test(head, PageFlags.DeferredQueued)) DeferredUnqueue(head);
        int nr = 1 << order;
        Map.SplitToOrder0(head);
        for (int p = head; p < head + nr; p++) Map.AddRef(p, Map.PteMapcount(p));
        foreach (var (vma, addr) in mappings)
        {
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr))!;
            int idx = PteIndex(addr);
            int pfn = Pte.Pfn(slot.Ptes![idx]);
            if (Map.Content(pfn) != 0) continue;
            slot.Ptes[idx] = Pte.ZeroPage;
            vma.Mm.Rss[(int)RssMember.AnonPages]--;
            FolioRemoveRmapPtes(pfn, pfn, 1);
            FolioPut(pfn);
        }
        for (int p = head; p < head + nr; p++)
            if (Map.Kind(p) == PageKind.Anon && Map.Order(p) == 0 && Map.Refcount(p) == 0 && Map.PteMapcount(p) == 0)
                FreeFolio(p);
        return true;
    }
}
