using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/memory.c: unmap_page_range() → zap_pmd_range() → zap_pte_range().
public sealed partial class Kernel
{
    /// <summary>
    /// Removes every mapping in [start, end) of one VMA. A PMD mapping covered whole is zapped whole
    /// (zap_huge_pmd()); one covered in part is split first. PTEs of one folio are unmapped in one
    /// batch (zap_present_ptes()), so a folio unmapped whole is never seen as partially mapped.
    /// What the program expects there becomes zeroes. With <paramref name="reclaimPt"/> (MADV_DONTNEED's
    /// zap_details.reclaim_pt), a PTE table the zap covered whole and emptied is freed too. Without
    /// <paramref name="evenCows"/> (zap_details.even_cows false: a punch hole), a private file mapping
    /// keeps its anonymous copies and what the program expects of them. In a file mapping, uffd-wp
    /// markers stay and, where the VMA is registered for userfaultfd write protection, an entry that
    /// was write-protected leaves one (zap_install_uffd_wp_if_needed()), unless <paramref name="dropMarkers"/>
    /// (ZAP_FLAG_DROP_MARKER: munmap and exit, unmap_mapping_folio()).
    /// </summary>
    internal void ZapRange(Vma.Vma vma, ulong start, ulong end, bool reclaimPt = false, bool evenCows = true, bool dropMarkers = false)
    {
        // markers exist only where write protection was registered: never in a process without a userfaultfd
        bool keepWp = !dropMarkers && vma.File != null && vma.Mm.Uffd != null;
        bool installWp = (vma.Flags & VmFlags.UffdWp) != 0;
        Span<ulong> wp = stackalloc ulong[keepWp ? (Geo.PtrsPerPte + 63) / 64 : 0];
        if ((InjectedFaults & InjectedFault.ZapOnePageTooMany) != 0 && end < vma.End) end += (ulong)Geo.PageSize;
        // WalkPmdRange() written out: no closure for a call this frequent
        ulong pmdSize = (ulong)Geo.PmdSize;
        for (ulong addr = start; addr < end;)
        {
            ulong next = Math.Min((addr & ~(pmdSize - 1)) + pmdSize, end);
            if (vma.Mm.PageTables.Find(PmdIndex(addr)) is { } slot)
            {
                var (first, last) = PteSpan(addr, next);
                bool markers = keepWp && slot.Kind == PmdKind.Table && WpEntries(slot.Ptes!, first, last, installWp, wp);
                ZapPmd(vma, slot, addr, next, evenCows);
                if (markers) InstallUffdWpMarkers(slot.Ptes!, first, last, wp);
                // reclaim_pt_is_enabled(): only a zap of the whole PMD range may free its table
                if (reclaimPt && next - addr == pmdSize) TryToFreePte(vma.Mm, slot);
                if (slot.Expected != null && evenCows)
                {
                    if (last - first == Geo.PtrsPerPte) DropExpected(slot);   // nothing left to expect: no table to clear (nor copy first)
                    else Array.Clear(ExpectedForWrite(slot), first, last - first);
                }
            }
            addr = next;
        }
    }

    /// <summary>
    /// Marks in <paramref name="wp"/> (a bit per entry) the entries of [first, last) that are markers,
    /// or with <paramref name="anyWp"/> that carry the uffd-wp bit at all; whether any is.
    /// </summary>
    static bool WpEntries(ulong[] ptes, int first, int last, bool anyWp, Span<ulong> wp)
    {
        wp.Clear();
        bool any = false;
        for (int i = first; i < last; i++)
            if (anyWp ? Pte.IsUffdWp(ptes[i]) : Pte.IsMarker(ptes[i])) { wp[i >> 6] |= 1UL << (i & 63); any = true; }
        return any;
    }

    /// <summary>pte_install_uffd_wp_if_needed() after a zap: each entry marked in <paramref name="wp"/> that the zap emptied becomes a uffd-wp marker.</summary>
    static void InstallUffdWpMarkers(ulong[] ptes, int first, int last, ReadOnlySpan<ulong> wp)
    {
        for (int i = first; i < last; i++)
            if ((wp[i >> 6] & (1UL << (i & 63))) != 0 && Pte.IsNoneMostly(ptes[i])) ptes[i] = Pte.UffdWpMarker;
    }

    /// <summary>
    /// What try_to_unmap_one() leaves in place of an entry it clears: a uffd-wp marker for a
    /// write-protected entry of a file mapping registered in wp mode (pte_install_uffd_wp_if_needed()), else nothing.
    /// </summary>
    static ulong UnmappedEntry(Vma.Vma vma, ulong pte) =>
        vma.File != null && (vma.Flags & VmFlags.UffdWp) != 0 && Pte.IsUffdWp(pte) ? Pte.UffdWpMarker : 0;

    void ZapPmd(Vma.Vma vma, PmdSlot slot, ulong addr, ulong next, bool evenCows = true)
    {
        MmStruct mm = vma.Mm;
        ulong pmdSize = (ulong)Geo.PmdSize;
        if (slot.Kind is PmdKind.Huge or PmdKind.HugeZero)
        {
            if (next - addr == pmdSize)
            {
                if (slot.Kind == PmdKind.Huge && Map.Kind(Pte.Pfn(slot.Leaf)) == PageKind.Shmem)
                {
                    // zap_huge_pmd() of a file PMD: a young one marks the folio accessed; a dirty one
                    // leaves it dirty on the live kernel (measured: written only through a PMD and
                    // unmapped, a shmem folio still goes to swap; 6.18's source drops the bit here)
                    int head = Pte.Pfn(slot.Leaf);
                    if (Pte.IsDirty(slot.Leaf)) Map.Set(head, PageFlags.Dirty);
                    if (Pte.IsYoung(slot.Leaf)) FolioMarkAccessed(head);
                }
                ZapHugePmd(mm, slot);
                return;
            }
            SplitHugePmd(vma, slot, addr & ~(pmdSize - 1));
        }
        if (slot.Kind != PmdKind.Table) return;
        var ptes = slot.Ptes!;
        var (i, endIdx) = PteSpan(addr, next);
        while (i < endIdx)
        {
            ulong pte = ptes[i];
            if (Pte.IsSwap(pte))
            {
                // zap_nonpresent_ptes(): a swap entry is anonymous, so a punch hole (no even_cows) keeps it
                if (evenCows) { FreeSwapEntry(mm, pte); ptes[i] = 0; ZapBatchWork(1); }
                i++;
                continue;
            }
            if (!Pte.IsNormal(pte))
            {
                // The zero page goes even without even_cows (zap_present_ptes(): no folio to keep), and
                // what was the program's own zero page shows the file again.
                ptes[i] = 0;
                if (!evenCows && slot.Expected != null) ExpectedForWrite(slot)[i] = 0;
                ZapBatchWork(1);
                i++;
                continue;
            }
            int pfn = Pte.Pfn(pte);
            int head = Map.HeadOf(pfn);
            int folioEnd = head + (1 << Map.Order(head));
            int nr = FolioPteBatch(ptes, i, endIdx, pfn, folioEnd);
            if (!evenCows && Map.Kind(head) == PageKind.Anon) { i += nr; continue; }   // should_zap_cows()
            var small = nr != 1 ? SmallMapped.Any
                : Map.IsSmallAnon(pfn, SmallMapped.Shared) ? SmallMapped.Shared
                : SwapCache is not { Pages: > 0 } && Map.IsSmallAnon(pfn, SmallMapped.Exclusive) ? SmallMapped.Exclusive
                : SmallMapped.Any;
            if (small != SmallMapped.Any)
            {
                // Order-0 folios at consecutive frames, all kept by other mappings (fork's children
                // and parents) or all held by this mapping alone (the swap cache empty). The PTEs,
                // mapcounts, references and counters of the run move in one step; a kept folio loses
                // nothing else, a held one is then freed, in page order, as one by one.
                int run = SmallAnonRun(ptes, i, endIdx, pfn, small);
                if (run == 1 && small == SmallMapped.Exclusive)
                {
                    // pages copied one at a time (written after a read mapped the zero page) lie at frames in no order
                    run = ZapScatteredExclusivePages(ptes, i, endIdx);
                    NrAnonMapped -= run;
                }
                else
                {
                    Array.Clear(ptes, i, run);
                    NrAnonMapped -= Map.SubPteMapcountRun(pfn, run);
                    Map.AddRefRun(pfn, run, -1);
                    if (small == SmallMapped.Exclusive)
                        FreeSmallRun(pfn, run);
                }
                mm.Rss[(int)RssMember.AnonPages] -= run;
                SmallFolioBatchesWork(Cost.KernelWork.ZapBatches, Cost.KernelWork.ZapPtes, run);
                i += run;
                continue;
            }
            if (ZapFolioRuns && nr > 1 && pfn == head && head + nr == folioEnd && ZapExclusiveFolioRun(slot, i, endIdx, mm) is var zapped and > 0)
            {
                i += zapped;
                continue;
            }
            if (ZapFolioRuns && nr == 1 && ZapSmallFileRun(slot, i, endIdx, pfn, mm) is var files and > 0)
            {
                i += files;
                continue;
            }
            if (Map.Kind(head) == PageKind.Shmem)
            {
                // zap_present_folio_ptes(): a file folio takes the dirty and young state gathered over the batch
                ulong gathered = 0;
                for (int k = i; k < i + nr; k++) gathered |= ptes[k];
                if (Pte.IsDirty(gathered)) Map.Set(head, PageFlags.Dirty);
                if (Pte.IsYoung(gathered)) FolioMarkAccessed(head);
            }
            ContClearPtes(slot, i, nr);   // get_and_clear_full_ptes()
            Array.Clear(ptes, i, nr);
            ZapBatchWork(nr);
            mm.Rss[(int)RssOf(head)] -= nr;
            FolioRemoveRmapPtes(head, pfn, nr, mm);
            FreeSwapCache(head);   // free_pages_and_swap_cache() as the TLB batch is freed
            FolioPut(head, nr);
            i += nr;
        }
    }

    /// <summary>
    /// models zap_present_ptes() for each of the PTEs from <paramref name="i"/> on (the first known to
    /// be one) that each map an order-0 anonymous folio held by that mapping alone, at any frames: each
    /// is cleared, its page unmapped and freed in page order; the caller counts them. Returns how many.
    /// </summary>
    int ZapScatteredExclusivePages(ulong[] ptes, int i, int end)
    {
        int k = i;
        do
        {
            int pfn = Pte.Pfn(ptes[k]);
            ptes[k] = 0;
            Map.UnmapOnlyPtes(pfn, 1);
            Map.AddRefRun(pfn, 1, -1);
            FreeSmallRun(pfn, 1);
            k++;
        }
        while (k < end && Pte.IsNormal(ptes[k]) && Map.IsSmallAnon(Pte.Pfn(ptes[k]), SmallMapped.Exclusive));
        return k - i;
    }

    /// <summary>
    /// Order-0 page-cache folios at consecutive frames, mapped by the PTEs from <paramref name="i"/>
    /// on, each still held by the page cache (the put frees none) and none in the swap cache: what
    /// fault-around maps of a library. Each folio takes its PTE's dirty and young state in page order,
    /// as its own batch would; then the entries, mapcounts, references and counters of the run move
    /// in one step. Returns the pages zapped (0: the first is not such a folio).
    /// </summary>
    int ZapSmallFileRun(PmdSlot slot, int i, int end, int pfn, MmStruct mm)
    {
        if (slot.ContBlocks != null || SwapCache is { Pages: > 0 }) return 0;
        var ptes = slot.Ptes!;
        int run = 0;
        while (i + run < end && Pte.IsNormal(ptes[i + run]) && Pte.Pfn(ptes[i + run]) == pfn + run
               && Map.KindAndOrder(pfn + run) == (PageKind.Shmem, 0) && Map.Refcount(pfn + run) > 1)
            run++;
        if (run == 0) return 0;
        for (int k = 0; k < run; k++)
        {
            // zap_present_folio_ptes() of each folio: the dirty and young state of its one entry
            ulong pte = ptes[i + k];
            if (Pte.IsDirty(pte)) Map.Set(pfn + k, PageFlags.Dirty);
            if (Pte.IsYoung(pte)) FolioMarkAccessed(pfn + k);
        }
        Array.Clear(ptes, i, run);
        mm.Rss[(int)RssMember.ShmemPages] -= run;
        NrFileMapped -= Map.SubPteMapcountRun(pfn, run);
        Map.AddRefRun(pfn, run, -1);
        SmallFolioBatchesWork(Cost.KernelWork.ZapBatches, Cost.KernelWork.ZapPtes, run);
        return run;
    }

    /// <summary>Whether <see cref="ZapExclusiveFolioRun"/> and <see cref="ZapSmallFileRun"/> are used (tests turn them off to compare with folio-by-folio zapping).</summary>
    internal bool ZapFolioRuns { get; set; } = true;

    /// <summary>
    /// Large anonymous folios mapped whole from PTE <paramref name="i"/> on, at consecutive frames,
    /// each mapped only there (one PTE per page, no other reference, not on the deferred split
    /// queue; one held by the swap cache has references of its own): each batch unmaps its whole
    /// folio and frees it, so the entries, mapcounts and counters of the run move in one step and
    /// the buddy allocator frees the run as freeing the folios one by one in page order would.
    /// Returns the pages zapped (0: the first folio is not such a one).
    /// </summary>
    int ZapExclusiveFolioRun(PmdSlot slot, int i, int end, MmStruct mm)
    {
        var ptes = slot.Ptes!;
        int start = Pte.Pfn(ptes[i]);
        int pfn = start, folios = 0;
        // The entries are checked for consecutive frames a few dozen ahead of the folio reached (the
        // caller's batch is the first), so a run that stops early has read few entries beyond it.
        const int Ahead = 64;
        int consecutive = i + 1;
        for (int k = i; k < end; k = i + (pfn - start))
        {
            // the entry must map the next frame before that frame is looked at
            if (!Consecutive(k + 1)) break;
            var (kind, order) = Map.KindAndOrder(pfn);
            int nr = 1 << order;
            if (order == 0 || kind != PageKind.Anon || (pfn & (nr - 1)) != 0 || k + nr > end || !Consecutive(k + nr)) break;
            // the fields read where they lie: a copy of the record per folio showed in munmap of 64K folios
            if (Map.Refcount(pfn) != nr || Map.FolioMapcount(pfn) != nr || Map.EntireMapcount(pfn) != 0 || !Map.OnePteMappingEach(pfn, nr)
                || Map.Test(pfn, PageFlags.DeferredQueued)) break;
            System.Diagnostics.Debug.Assert(!InSwapCache(pfn), "the swap cache holds references of its own");
            // what folio_remove_rmap_ptes() and the last folio_put() leave of the folio once it is freed
            // arm64: a block shared with the next folio is unfolded here, so the entries may be cleared last
            if (slot.ContBlocks != null) ContClearPtes(slot, k, nr);
            if (Map.LargeAnonVma(pfn) != 0) Stats.Count(order, MthpStat.NrAnon, -1);
            if (Lru != null) LruDel(pfn);
            MemcgUncharge(pfn, nr);
            Map.ReleaseLargeFolio(pfn, order);
            pfn += nr;
            folios++;
        }
        int pages = pfn - start;
        if (pages == 0) return 0;
        Array.Clear(ptes, i, pages);
        Map.UnmapOnlyPtes(start, pages);
        mm.Rss[(int)RssMember.AnonPages] -= pages;
        NrAnonMapped -= pages;
        Buddy.FreeRun(start, pages);
        Work(Cost.KernelWork.ZapBatches, folios);
        Work(Cost.KernelWork.ZapPtes, pages);
        Work(Cost.KernelWork.RmapFolios, folios);
        Work(Cost.KernelWork.RmapPages, pages);
        Work(Cost.KernelWork.FolioFrees, folios);
        Work(Cost.KernelWork.PagesFreed, pages);
        return pages;

        // Whether entries [i, upTo) map consecutive frames from start, checked up to Ahead entries further.
        bool Consecutive(int upTo)
        {
            if (upTo <= consecutive) return true;
            int check = Math.Min(end - consecutive, Math.Max(Ahead, upTo - consecutive));
            consecutive += Pte.ConsecutiveNormal(ptes.AsSpan(consecutive, check), start + (consecutive - i));
            return upTo <= consecutive;
        }
    }

    /// <summary>One zap_present_ptes() or zap_nonpresent_ptes() batch (or one zap_huge_pmd()) over <paramref name="entries"/> entries.</summary>
    void ZapBatchWork(int entries)
    {
        Work(Cost.KernelWork.ZapBatches);
        Work(Cost.KernelWork.ZapPtes, entries);
    }

    /// <summary>models mm_counter(): the RSS counter a folio's pages count in.</summary>
    RssMember RssOf(int head) => Map.Kind(head) == PageKind.Shmem ? RssMember.ShmemPages : RssMember.AnonPages;

    /// <summary>models zap_huge_pmd(): drops the PMD mapping and frees the deposited page table.</summary>
    void ZapHugePmd(MmStruct mm, PmdSlot slot)
    {
        ZapBatchWork(1);
        if (slot.Kind == PmdKind.Huge)
        {
            int head = Pte.Pfn(slot.Leaf);
            mm.Rss[(int)RssOf(head)] -= 1L << Geo.PmdOrder;
            FolioRemoveRmapPmd(head, mm);
            FolioPut(head);
        }
        slot.Kind = PmdKind.None;
        slot.Leaf = 0;
        if (slot.TablePfn >= 0) { FreePageTable(mm, slot.TablePfn); slot.TablePfn = -1; }
    }

    /// <summary>
    /// models try_to_free_pte() (CONFIG_PT_RECLAIM): a PTE table with no entry left is unhooked from
    /// its PMD and freed, so the next fault there starts from pmd_none() and may map a PMD.
    /// </summary>
    void TryToFreePte(MmStruct mm, PmdSlot slot)
    {
        if (slot.Kind != PmdKind.Table || slot.Ptes.AsSpan().IndexOfAnyExcept(0UL) >= 0) return;
        FreePageTable(mm, slot.TablePfn);
        slot.TablePfn = -1;
        slot.Kind = PmdKind.None;
        ContForget(slot);
    }

    /// <summary>
    /// models free_pgtables(): after an unmap, PTE tables whose whole PMD range no longer meets any
    /// VMA are freed (zap already emptied them). No VMA may be left in [start, end).
    /// </summary>
    internal void FreePgtables(MmStruct mm, ulong start, ulong end)
    {
        ulong pmdSize = (ulong)Geo.PmdSize;
        for (ulong b = start & ~(pmdSize - 1); b < end; b += pmdSize)
        {
            long idx = PmdIndex(b);
            var slot = mm.PageTables.Find(idx);
            if (slot == null) continue;
            // the range is unmapped: only a table at either end can still serve a VMA beside it
            if ((b < start || b + pmdSize > end) && mm.AnyIntersecting(b, b + pmdSize)) continue;
            if (slot.Kind == PmdKind.Table && slot.TablePfn >= 0) FreePageTable(mm, slot.TablePfn);
            mm.PageTables.Remove(idx);
        }
        FreeUpperTables(mm, start, end);
    }
}
