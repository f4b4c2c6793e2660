using MthpSim.Core.Folio;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// Reverse-map accounting of mm/rmap.c with CONFIG_PAGE_MAPCOUNT: per-page PTE mapcounts,
// the entire (PMD) mapcount, and the number of pages mapped at least once.
public sealed partial class Kernel
{
    /// <summary>models folio_add_new_anon_rmap() for a folio about to be mapped whole, by PTEs or by one PMD.</summary>
    internal void FolioAddNewAnonRmap(int head, Vma.Vma vma, ulong addr, bool pmdMapped)
    {
        int order = Map.Order(head);
        int nr = 1 << order;
        for (int p = head; p < head + nr; p++) Map.Set(p, PageFlags.AnonExclusive);
        if (order == 0)
        {
            Map.AddPteMapcount(head, 1);
        }
        else
        {
            ref var lf = ref Map.Large(head);
            lf.AnonIndex = LinearPageIndex(vma, addr);
            lf.AnonVma = vma.AnonVma;
            if (pmdMapped)
            {
                lf.EntireMapcount = 1;
                NrAnonThps += nr;
            }
            else
            {
                for (int p = head; p < head + nr; p++) Map.AddPteMapcount(p, 1);
                lf.NrPagesMapped = nr;
            }
            Stats.Count(order, MthpStat.NrAnon);
        }
        NrAnonMapped += nr;
    }

    /// <summary>models folio_add_anon_rmap_ptes() for pages of an existing folio (PMD split, fork).</summary>
    internal void FolioAddAnonRmapPtes(int head, int firstPfn, int nr)
    {
        if (Map.Order(head) == 0)
        {
            Map.AddPteMapcount(firstPfn, 1);
            if (Map.PteMapcount(firstPfn) == 1) NrAnonMapped++;
            return;
        }
        ref var lf = ref Map.Large(head);
        int first = 0;
        for (int p = firstPfn; p < firstPfn + nr; p++)
        {
            Map.AddPteMapcount(p, 1);
            if (Map.PteMapcount(p) == 1) first++;
        }
        lf.NrPagesMapped += first;
        if (lf.EntireMapcount == 0) NrAnonMapped += first;
    }

    /// <summary>models folio_remove_rmap_ptes(): may queue the folio as partially mapped.</summary>
    internal void FolioRemoveRmapPtes(int head, int firstPfn, int nr)
    {
        int order = Map.Order(head);
        if (order == 0)
        {
            Map.AddPteMapcount(firstPfn, -1);
            if (Map.PteMapcount(firstPfn) == 0) NrAnonMapped--;
            return;
        }
        ref var lf = ref Map.Large(head);
        int last = 0;
        for (int p = firstPfn; p < firstPfn + nr; p++)
        {
            Map.AddPteMapcount(p, -1);
            if (Map.PteMapcount(p) == 0) last++;
        }
        lf.NrPagesMapped -= last;
        int unmapped = lf.EntireMapcount == 0 ? last : 0;
        NrAnonMapped -= unmapped;
        bool partiallyMapped = unmapped != 0 && lf.NrPagesMapped != 0;
        if (partiallyMapped && Map.Kind(head) == PageKind.Anon && !Map.Test(head, PageFlags.PartiallyMapped))
            DeferredSplitFolio(head, partiallyMapped: true);
    }

    /// <summary>models folio_remove_rmap_pmd()</summary>
    internal void FolioRemoveRmapPmd(int head)
    {
        ref var lf = ref Map.Large(head);
        int nrPages = 1 << Map.Order(head);
        lf.EntireMapcount--;
        if (lf.EntireMapcount != 0) return;
        NrAnonThps -= nrPages;
        int unmapped = nrPages - lf.NrPagesMapped;
        NrAnonMapped -= unmapped;
        bool partiallyMapped = unmapped != 0 && unmapped < nrPages;
        if (partiallyMapped && !Map.Test(head, PageFlags.PartiallyMapped))
            DeferredSplitFolio(head, partiallyMapped: true);
    }

    /// <summary>models linear_page_index(): the page offset of addr in the VMA's anon/file space.</summary>
    internal long LinearPageIndex(Vma.Vma vma, ulong addr) => vma.PgOff + (long)((addr - vma.Start) >> PageShift);

    /// <summary>
    /// A minimal anon rmap walk (rmap_walk_anon()): every present PTE or PMD mapping a page of the folio,
    /// found through the VMAs of its anon_vma and the folio's linear index.
    /// </summary>
    internal List<(Vma.Vma Vma, ulong Addr)> AnonFolioMappings(int head)
    {
        var result = new List<(Vma.Vma, ulong)>();
        ref var lf = ref Map.Large(head);
        int nr = 1 << Map.Order(head);
        foreach (var mm in _mms)
        {
            foreach (var vma in mm.Vmas)
            {
                if (vma.AnonVma != lf.AnonVma) continue;
                for (int i = 0; i < nr; i++)
                {
                    long off = lf.AnonIndex + i - vma.PgOff;
                    if (off < 0) continue;
                    ulong addr = vma.Start + ((ulong)off << PageShift);
                    if (addr >= vma.End) break;
                    if (ResolvePfn(mm, addr, out _) == head + i) result.Add((vma, addr));
                }
            }
        }
        return result;
    }
}
