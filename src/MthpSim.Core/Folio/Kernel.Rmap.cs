using System.Runtime.CompilerServices;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// Reverse-map accounting of mm/rmap.c with CONFIG_PAGE_MAPCOUNT and CONFIG_MM_ID: per-page PTE
// mapcounts, the entire (PMD) mapcount, the pages mapped at least once, the large mapcount and the
// two per-mm slots that tell whether a large folio may be mapped by more than one mm.
public sealed partial class Kernel
{
    /// <summary>models folio_add_new_anon_rmap() for a folio about to be mapped whole, by PTEs or by one PMD.</summary>
    internal void FolioAddNewAnonRmap(int head, Vma.Vma vma, ulong addr, bool pmdMapped)
    {
        int order = Map.Order(head);
        int nr = 1 << order;
        RmapWork(pmdMapped ? 0 : nr);
        // A PMD-mapped folio is exclusive through its head page alone, until the PMD is split.
        if (pmdMapped) Map.Set(head, PageFlags.AnonExclusive);
        else Map.SetRange(head, nr, PageFlags.AnonExclusive);
        if (order == 0)
        {
            Map.AddPteMapcount(head, 1);
        }
        else
        {
            // a new folio's record is empty: written whole, not read first
            System.Diagnostics.Debug.Assert(Map.Large(head) is { LargeMapcount: 0, Pincount: 0, DeferredPrev: -1, AnonVma: 0 }, "a new folio has a record already");
            int mappings = pmdMapped ? 1 : nr;
            // models folio_set_large_mapcount(): one owner, not shared
            var lf = new LargeFolioInfo
            {
                AnonIndex = LinearPageIndex(vma, addr),
                AnonVma = vma.AnonVma,
                LargeMapcount = mappings,
                MmId0 = vma.Mm.Id,
                MmCount0 = mappings,
                DeferredPrev = -1,
                DeferredNext = -1,
            };
            if (pmdMapped)
            {
                lf.EntireMapcount = 1;
                NrAnonThps += nr;
            }
            else
            {
                Map.MapNewFolioPages(head, nr);
                lf.NrPagesMapped = nr;
            }
            Map.SetLarge(head, lf);
            Stats.Count(order, MthpStat.NrAnon);
        }
        NrAnonMapped += nr;
        SetSmallAnonRmap(head, vma, addr);
        LruAdd(head);   // folio_add_lru_vma()
    }

    /// <summary>models folio_add_anon_rmap_ptes() for pages of an existing folio (PMD split, fork).</summary>
    internal void FolioAddAnonRmapPtes(int head, int firstPfn, int nr, MmStruct mm) => FolioAddRmapPtes(head, firstPfn, nr, mm, ref NrAnonMapped);

    /// <summary>models folio_add_file_rmap_ptes(): PTE mappings of a shmem folio's pages; pages mapped for the first time count in NR_FILE_MAPPED.</summary>
    internal void FolioAddFileRmapPtes(int head, int firstPfn, int nr, MmStruct mm) => FolioAddRmapPtes(head, firstPfn, nr, mm, ref NrFileMapped);

    /// <summary>models __folio_add_rmap() for PTEs: pages mapped for the first time count in <paramref name="mapped"/> (NR_ANON_MAPPED or NR_FILE_MAPPED).</summary>
    void FolioAddRmapPtes(int head, int firstPfn, int nr, MmStruct mm, ref long mapped)
    {
        RmapWork(nr);
        if (Map.Order(head) == 0)
        {
            Map.AddPteMapcount(firstPfn, 1);
            if (Map.PteMapcount(firstPfn) == 1) mapped++;
            return;
        }
        int first = Map.AddPteMapcountRun(firstPfn, nr);
        bool counted;
        ref var lf = ref Map.LargeInPlace(head);
        if (!Unsafe.IsNullRef(ref lf)) counted = AddLargePtes(ref lf, first, nr, mm);
        else
        {
            var copy = Map.Large(head);
            counted = AddLargePtes(ref copy, first, nr, mm);
            Map.SetLarge(head, copy);
        }
        if (counted) mapped += first;
    }

    /// <summary>A large folio's counts for <paramref name="nr"/> more PTE mappings, <paramref name="first"/> of them its pages' first; whether those count as mapped pages (no PMD maps the folio).</summary>
    static bool AddLargePtes(ref LargeFolioInfo lf, int first, int nr, MmStruct mm)
    {
        lf.NrPagesMapped += first;
        FolioAddLargeMapcount(ref lf, nr, mm);
        return lf.EntireMapcount == 0;
    }

    /// <summary>models folio_add_file_rmap_pmd(): the first PMD mapping counts NR_SHMEM_PMDMAPPED, and NR_FILE_MAPPED for pages no PTE maps.</summary>
    internal void FolioAddFileRmapPmd(int head, MmStruct mm)
    {
        RmapWork(0);
        ref var lf = ref Map.LargeInPlace(head);   // a PMD-mapped folio keeps its record in place
        int nrPages = 1 << Map.Order(head);
        lf.EntireMapcount++;
        FolioAddLargeMapcount(ref lf, 1, mm);
        if (lf.EntireMapcount != 1) return;
        NrShmemPmdMapped += nrPages;
        NrFileMapped += nrPages - lf.NrPagesMapped;
    }

    /// <summary>NR_ANON_MAPPED or NR_FILE_MAPPED, whichever counts this folio's mapped pages.</summary>
    ref long MappedCounter(int head) => ref Map.Kind(head) == PageKind.Shmem ? ref NrFileMapped : ref NrAnonMapped;

    /// <summary>models folio_try_dup_anon_rmap_pmd() on success: one more PMD mapping, by the child.</summary>
    internal void FolioDupAnonRmapPmd(int head, MmStruct child)
    {
        RmapWork(0);
        ref var lf = ref Map.LargeInPlace(head);   // a PMD-mapped folio keeps its record in place
        lf.EntireMapcount++;
        FolioAddLargeMapcount(ref lf, 1, child);
    }

    /// <summary>models folio_remove_rmap_ptes(): may queue the folio as partially mapped.</summary>
    internal void FolioRemoveRmapPtes(int head, int firstPfn, int nr, MmStruct mm)
    {
        RmapWork(nr);
        int order = Map.Order(head);
        if (order == 0)
        {
            Map.AddPteMapcount(firstPfn, -1);
            if (Map.PteMapcount(firstPfn) == 0) MappedCounter(head)--;
            return;
        }
        int last = Map.SubPteMapcountRun(firstPfn, nr);
        int unmapped, nrPagesMapped;
        ref var lf = ref Map.LargeInPlace(head);
        if (!Unsafe.IsNullRef(ref lf)) SubPtes(ref lf);
        else
        {
            var copy = Map.Large(head);
            SubPtes(ref copy);
            Map.SetLarge(head, copy);
        }
        MappedCounter(head) -= unmapped;
        bool partiallyMapped = unmapped != 0 && nrPagesMapped != 0;
        if (partiallyMapped && Map.Kind(head) == PageKind.Anon && !Map.Test(head, PageFlags.PartiallyMapped))
            DeferredSplitFolio(head, partiallyMapped: true);

        void SubPtes(ref LargeFolioInfo lf)
        {
            FolioSubLargeMapcount(ref lf, nr, mm);
            lf.NrPagesMapped -= last;
            unmapped = lf.EntireMapcount == 0 ? last : 0;
            nrPagesMapped = lf.NrPagesMapped;
        }
    }

    /// <summary>models folio_remove_rmap_pmd()</summary>
    internal void FolioRemoveRmapPmd(int head, MmStruct mm)
    {
        RmapWork(0);
        ref var lf = ref Map.LargeInPlace(head);   // a PMD-mapped folio keeps its record in place
        int nrPages = 1 << Map.Order(head);
        FolioSubLargeMapcount(ref lf, 1, mm);
        lf.EntireMapcount--;
        if (lf.EntireMapcount != 0) return;
        bool anon = Map.Kind(head) == PageKind.Anon;
        if (anon) NrAnonThps -= nrPages; else NrShmemPmdMapped -= nrPages;
        int unmapped = nrPages - lf.NrPagesMapped;
        MappedCounter(head) -= unmapped;
        bool partiallyMapped = unmapped != 0 && unmapped < nrPages;
        if (partiallyMapped && anon && !Map.Test(head, PageFlags.PartiallyMapped))
            DeferredSplitFolio(head, partiallyMapped: true);
    }

    /// <summary>models folio_add_large_mapcount() with CONFIG_MM_ID: count the mappings per mm slot.</summary>
    static void FolioAddLargeMapcount(ref LargeFolioInfo lf, int diff, MmStruct mm)
    {
        lf.LargeMapcount += diff;
        if (lf.MmId0 == mm.Id) lf.MmCount0 += diff;
        else if (lf.MmId1 == mm.Id) lf.MmCount1 += diff;
        else if (lf.MmId0 == 0)
        {
            lf.MmId0 = mm.Id;
            lf.MmCount0 = diff;
            if (lf.LargeMapcount != diff) lf.MaybeMappedShared = true;   // other mappings already exist
        }
        else if (lf.MmId1 == 0)
        {
            lf.MmId1 = mm.Id;
            lf.MmCount1 = diff;
            lf.MaybeMappedShared = true;
        }
        // No free slot: the folio is already marked shared.
    }

    /// <summary>models folio_sub_large_mapcount(): frees a slot that drops to zero; clears "shared" once one mm holds every mapping.</summary>
    static void FolioSubLargeMapcount(ref LargeFolioInfo lf, int diff, MmStruct mm)
    {
        lf.LargeMapcount -= diff;
        if (lf.MmId0 == mm.Id)
        {
            lf.MmCount0 -= diff;
            if (lf.MmCount0 > 0) return;
            lf.MmCount0 = 0;
            lf.MmId0 = 0;
        }
        else if (lf.MmId1 == mm.Id)
        {
            lf.MmCount1 -= diff;
            if (lf.MmCount1 > 0) return;
            lf.MmCount1 = 0;
            lf.MmId1 = 0;
        }
        if (lf.LargeMapcount == lf.MmCount0 || lf.LargeMapcount == lf.MmCount1) lf.MaybeMappedShared = false;
    }

    /// <summary>models folio_maybe_mapped_shared(): any page mapped twice, or (CONFIG_MM_ID) more than one mm.</summary>
    internal bool FolioMaybeMappedShared(int head)
    {
        if (Map.Order(head) == 0) return Map.PteMapcount(head) > 1;
        var lf = Map.Large(head);
        if (lf.LargeMapcount <= 1) return false;
        if (lf.EntireMapcount > 0 || lf.LargeMapcount > 1 << Map.Order(head)) return true;
        return lf.MaybeMappedShared;
    }

    /// <summary>models linear_page_index(): the page offset of addr in the VMA's anon/file space.</summary>
    internal long LinearPageIndex(Vma.Vma vma, ulong addr) => vma.PgOff + (long)((addr - vma.Start) >> PageShift);

    /// <summary>
    /// A minimal anon rmap walk (rmap_walk_anon()): every present PTE or PMD mapping a page of the folio,
    /// found through the VMAs chained to its anon_vma and the folio's linear index; one entry per page.
    /// </summary>
    internal List<(Vma.Vma Vma, ulong Addr)> AnonFolioMappings(int head) => PerPage(AnonFolioMappingRuns(head));

    /// <summary><see cref="AnonFolioMappings"/> a run at a time (a PMD mapping is one entry, not one per page).</summary>
    internal List<FolioMapping> AnonFolioMappingRuns(int head)
    {
        int nr = 1 << Map.Order(head);
        int anonVma;
        long index;
        if (nr > 1)
        {
            var lf = Map.Large(head);
            (anonVma, index) = (lf.AnonVma, lf.AnonIndex);
        }
        else (anonVma, index) = (SmallRmap!.AnonVma(head), SmallRmap.Index(head));
        // nothing maps it (as folio_referenced() returns at once for an unmapped folio)
        if (anonVma == 0 || Map.FolioMapcount(head) == 0) return [];
        long mappings = RmapMappingsLeft(head, nr), found = 0;
        var result = new List<FolioMapping>();
        foreach (var mm in _mms)
        {
            foreach (var vma in mm.Vmas)
            {
                if (found == mappings) return result;
                // the anon_vma interval tree holds only VMAs whose page offsets cover the folio's
                if (!VmaCoversIndex(vma, index, nr)) continue;
                if (Array.IndexOf(vma.AnonVmaChain, anonVma) < 0) continue;
                found += AddVmaMappings(vma, head, index, nr, result);
            }
        }
        return result;
    }

    /// <summary>The walk's runs as one entry per page, in the same order.</summary>
    List<(Vma.Vma Vma, ulong Addr)> PerPage(List<FolioMapping> runs)
    {
        int pages = 0;
        foreach (var r in runs) pages += r.Pages;
        var result = new List<(Vma.Vma, ulong)>(pages);
        foreach (var r in runs)
            for (int k = 0; k < r.Pages; k++) result.Add((r.Vma, r.Addr + ((ulong)k << PageShift)));
        return result;
    }

    /// <summary>
    /// How many entries an rmap walk of the folio finds (it ends once it found them all, as
    /// folio_referenced() stops when its count of mappings left reaches zero): one per PTE, one per
    /// page of a PMD mapping.
    /// </summary>
    long RmapMappingsLeft(int head, int nr) =>
        nr == 1 ? Map.PteMapcount(head) : Map.FolioMapcount(head) + (long)Map.EntireMapcount(head) * (nr - 1);

    /// <summary>Whether the VMA's page offsets meet [index, index + nr) (what puts it in an anon_vma's or a file's interval tree for that range).</summary>
    bool VmaCoversIndex(Vma.Vma vma, long index, int nr) =>
        index + nr > vma.PgOff && index < vma.PgOff + (long)((vma.End - vma.Start) >> PageShift);

    /// <summary>
    /// Adds the runs of pages of the folio at <paramref name="head"/> that the VMA maps at the pages'
    /// linear indexes (<paramref name="index"/> + i), in page order; the PMD is looked up once per
    /// PMD range (page_vma_mapped_walk()). Returns the pages found.
    /// </summary>
    int AddVmaMappings(Vma.Vma vma, int head, long index, int nr, List<FolioMapping> result)
    {
        int i = (int)Math.Max(0, vma.PgOff - index), found = 0;
        ulong pmdMask = (ulong)Geo.PmdSize - 1, pageSize = (ulong)Geo.PageSize;
        while (i < nr)
        {
            ulong addr = vma.Start + ((ulong)(index + i - vma.PgOff) << PageShift);
            if (addr >= vma.End) break;
            ulong rangeEnd = Math.Min((addr | pmdMask) + 1, vma.End);
            int n = (int)Math.Min(nr - i, (long)((rangeEnd - addr) >> PageShift));
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr));
            if (slot is { Kind: PmdKind.Huge })
            {
                // frames and folio pages advance together across a PMD mapping: all of them are the folio's, or none
                if (Pte.Pfn(slot.Leaf) + PteIndex(addr) == head + i) { result.Add(new(vma, addr, n, Pmd: true)); found += n; }
                i += n;
                continue;
            }
            for (int k = 0; k < n;)
            {
                int run = 0;
                while (k + run < n && Resolve(slot, addr + ((ulong)run << PageShift), out _) == head + i + run) run++;
                if (run > 0) { result.Add(new(vma, addr, run, Pmd: false)); found += run; }
                else run = 1;   // not this folio's page: passed over
                k += run;
                i += run;
                addr += (ulong)run * pageSize;
            }
        }
        return found;
    }
}
