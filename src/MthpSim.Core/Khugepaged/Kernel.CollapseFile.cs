using MthpSim.Core.Folio;
using MthpSim.Core.Khugepaged;
using MthpSim.Core.PageTable;
using MthpSim.Core.Shmem;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/khugepaged.c for shmem: the page cache of a PMD-sized file range is collapsed into one PMD folio.
public sealed partial class Kernel
{
    /// <summary>
    /// models hpage_collapse_scan_file(): walks the folios and swap entries in the file's PMD-sized
    /// range; khugepaged stops past max_ptes_swap swapped pages (thp_scan_exceed_swap_pte). A PMD
    /// folio already there is SCAN_PTE_MAPPED_HUGEPAGE (only the page tables are left to do); a folio
    /// with references beyond the cache's and its mappings' (a pin) stops the scan. No young check.
    /// khugepaged needs at least HPAGE_PMD_NR - max_ptes_none cached pages; then collapse_file().
    /// </summary>
    ScanResult HpageCollapseScanFile(MmStruct mm, ulong addr, ShmemFile f, long start, CollapseControl cc)
    {
        int nrPmd = Geo.PtrsPerPte, present = 0, swap = 0;
        long scanPfn = -1;
        var result = ScanResult.Succeed;
        var swapEntries = f.Cache.SwappedPages > 0 ? f.Cache.SwapEntries(start, start + nrPmd) : [];
        int nextSwap = 0;
        foreach (var (index, head) in f.Cache.Folios(start, start + nrPmd, h => 1 << Map.Order(h)).Append((start + nrPmd, -1)))
        {
            // the xarray walk meets swap entries and folios in index order
            for (; nextSwap < swapEntries.Count && swapEntries[nextSwap].Index < index && result == ScanResult.Succeed; nextSwap++)
            {
                swap += 1 << swapEntries[nextSwap].Order;
                if (cc.IsKhugepaged && swap > Thp.MaxPtesSwap)
                {
                    result = ScanResult.ExceedSwapPte;
                    Stats.Count(VmEvent.ThpScanExceedSwapPte);
                }
            }
            if (head < 0 || result != ScanResult.Succeed) { scanPfn = -1; break; }
            scanPfn = head;   // what a later break leaves in the trace
            int nr = 1 << Map.Order(head);
            if (Map.Order(head) == Geo.PmdOrder) { result = ScanResult.PteMappedHugepage; break; }
            if (Map.Refcount(head) != nr + Map.FolioMapcount(head)) { result = ScanResult.PageCount; break; }
            present += nr;
        }
        if (result == ScanResult.Succeed)
        {
            if (cc.IsKhugepaged && present < nrPmd - Thp.MaxPtesNone)
            {
                result = ScanResult.ExceedNonePte;
                Stats.Count(VmEvent.ThpScanExceedNonePte);
            }
            else result = CollapseFile(mm, f, start, cc);
        }
        _trace.Add(new KhugepagedTraceEvent(NowMs, mm.Name, mm.Pid, addr, result, 0, nrPmd - present, swap, 0, cc.IsKhugepaged,
            ScanPfn: scanPfn, FileName: f.AnonShared ? "dev/zero" : f.Name, Kind: KhugepagedTraceKind.ScanFile));
        return result;
    }

    /// <summary>
    /// models collapse_file() for shmem: allocates the PMD folio, swaps in what the range has in swap,
    /// then per cached folio (mTHP folios included) instantiates a fallocated one, unmaps it everywhere (try_to_unmap(); a later failure
    /// does not map it back) and checks that only the page cache still holds it. The holes are charged
    /// to the file (a full tmpfs fails the collapse). The pages are copied to their offsets, holes
    /// zeroed, the new folio replaces them in the page cache dirty, and the page tables left empty are
    /// retracted. MADV_COLLAPSE gets SCAN_PTE_MAPPED_HUGEPAGE back, so that it maps the PMD itself.
    /// </summary>
    ScanResult CollapseFile(MmStruct mm, ShmemFile f, long start, CollapseControl cc)
    {
        // collapse_file() holds the file: an OOM kill on the way must not release it under us
        _collapsingFile = f;
        try { return CollapseFileHeld(mm, f, start, cc); }
        finally
        {
            _collapsingFile = null;
            if (f.AnonShared) ReleaseUnmappedAnonShmem();
        }
    }

    /// <summary>The file whose PMD range collapse_file() is working on (it holds a reference).</summary>
    ShmemFile? _collapsingFile;

    ScanResult CollapseFileHeld(MmStruct mm, ShmemFile f, long start, CollapseControl cc)
    {
        int nrPmd = Geo.PtrsPerPte;
        CollapseMetrics.CollapseAttempts++;
        Work(Cost.KernelWork.CollapseAttempts);
        int folio = AllocFolio(Geo.PmdOrder, PageKind.Shmem, CollapseGfp(cc));   // alloc_charge_folio()
        if (folio < 0)
        {
            Stats.Count(VmEvent.ThpCollapseAllocFailed);
            return ScanResult.AllocHugePageFail;
        }
        Stats.Count(VmEvent.ThpCollapseAlloc);
        if (!MemcgCharge(folio, mm, CollapseChargeGfp(cc)))
        {
            FolioPut(folio);
            return ScanResult.CgroupChargeFail;
        }
        // What collapse_file() has looked at stays locked and off the LRU, so that reclaim by a later
        // swap-in's allocation cannot take it; a failure puts it back.
        var isolated = new List<int>();
        ScanResult Fail(ScanResult r)
        {
            foreach (int h in isolated) PutbackFolio(h);
            FolioPut(folio);
            return r;
        }

        // shmem_get_folio(SGP_NOALLOC) swaps in what is swapped out (refused at or past i_size)
        for (long i = f.Cache.NextCached(start, start + nrPmd, swap: true); i >= 0; i = f.Cache.NextCached(i, start + nrPmd, swap: true))
        {
            if (f.Cache.IsSwap(i, out _, out _))
            {
                if (i >= PagesOf(f.Size) || ShmemSwapin(f, i, null, fault: false, cc.IsKhugepaged ? null : mm) < 0) return Fail(ScanResult.Fail);
                LruAddDrain();   // so that the folio swapped in can be isolated
            }
            int head = f.Cache.Lookup(i);
            IsolateFolio(head);
            isolated.Add(head);
            i = ShmemOwnerOf(head).Index + (1 << Map.Order(head));
        }
        var old = f.Cache.Folios(start, start + nrPmd, h => 1 << Map.Order(h));
        if (old.Count == 0) return Fail(ScanResult.Truncated);
        int nrNone = nrPmd;
        foreach (var (index, head) in old)
        {
            int nr = 1 << Map.Order(head);
            if (Map.Order(head) == Geo.PmdOrder) return Fail(ScanResult.PteMappedHugepage);
            if (!ShmemFolioUptodate(head))
            {
                // shmem_get_folio(SGP_NOALLOC) refuses an index at or past i_size
                if (index >= PagesOf(f.Size)) return Fail(ScanResult.Fail);
                MarkUptodate(head);
            }
            if (Map.FolioMapcount(head) > 0) UnmapShmemFolio(head, tryToUnmap: true);
            if (Map.Refcount(head) != nr) return Fail(ScanResult.PageCount);
            nrNone -= nr;
        }
        if (nrNone > 0 && OverTmpfsLimit(f, nrNone)) return Fail(ScanResult.Fail);   // shmem_charge()
        // A hole that a userfaultfd in missing mode may have seen missing must stay missing (its fault is the handler's).
        if (nrNone > 0 && FileVmas(f).Any(v => UserfaultfdMissing(v) && v.PgOff < start + nrPmd && start < v.PgOff + (long)(v.Length >> PageShift)))
            return Fail(ScanResult.ExceedNonePte);

        foreach (var (index, head) in old)
        {
            int nr = 1 << Map.Order(head);
            for (int i = 0; i < nr; i++) Map.SetContent(folio + (int)(index - start) + i, Map.Content(head + i));
            ReleaseCacheFolio(f, head, index, nr, settle: false);
        }
        // The entries are replaced in place; a new node is needed only where the root must grow (the
        // range held nothing but index 0), left uncharged here (the kernel makes it first, xas_create_range()).
        AddToPageCache(f, folio, start);
        Map.Set(folio, PageFlags.Dirty);
        RetractPageTables(f, start);
        CollapseMetrics.FileCollapses++;
        return cc.IsKhugepaged ? ScanResult.Succeed : ScanResult.PteMappedHugepage;
    }

    /// <summary>
    /// Takes an unmapped folio out of the page cache with its accounting and drops the cache's
    /// references (filemap_remove_folio() without the content change). Without <paramref name="settle"/>
    /// the xarray's freed nodes wait for the caller's next store (a collapse replaces the entries in place).
    /// </summary>
    void ReleaseCacheFolio(ShmemFile f, int head, long index, int nr, bool settle = true)
    {
        f.Cache.Remove(index, nr);
        if (settle) SettleXaNodes(f, null);
        _shmemOwner.Remove(head);
        _notUptodate.Remove(head);
        NrShmem -= nr;
        if (Map.Order(head) == Geo.PmdOrder) NrShmemThps -= nr;
        f.AllocedPages -= nr;
        if (f.Mount != null) f.Mount.UsedPages -= nr;
        FolioPut(head, nr);
    }

    /// <summary>
    /// models retract_page_tables(): every VMA mapping file index <paramref name="pgoff"/> at a
    /// PMD-aligned address with the whole PMD range inside it, without an anon_vma and not
    /// write-protect registered with userfaultfd, loses its (now empty) page table there, so that its
    /// next fault maps the PMD.
    /// </summary>
    void RetractPageTables(ShmemFile f, long pgoff)
    {
        ulong pmdSize = (ulong)Geo.PmdSize;
        foreach (var vma in FileVmas(f))
        {
            // a write-protect registered VMA keeps its table: its markers hold the protection
            if (vma.AnonVma != 0 || vma.Mm.Exited || (vma.Flags & VmFlags.UffdWp) != 0) continue;
            if (pgoff < vma.PgOff || pgoff >= vma.PgOff + (long)(vma.Length >> PageShift)) continue;
            ulong addr = vma.Start + ((ulong)(pgoff - vma.PgOff) << PageShift);
            if ((addr & (pmdSize - 1)) != 0 || vma.End < addr + pmdSize) continue;
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr));
            if (slot is not { Kind: PmdKind.Table }) continue;
            // markers left from an earlier write protection go with the table
            if (slot.Ptes.AsSpan().ContainsAnyExcept(0UL, Pte.UffdWpMarker))
                throw new InvalidOperationException($"retract_page_tables(): the page table at 0x{addr:x} of {vma.Mm.Name} still maps pages");
            FreePageTable(vma.Mm, slot.TablePfn);
            slot.TablePfn = -1;
            slot.Kind = PmdKind.None;
            ContForget(slot);
        }
    }

    /// <summary>
    /// models collapse_pte_mapped_thp(): the file's PMD folio at this range replaces the caller's page
    /// table: every PTE must map its own page of the folio; they are cleared and the table freed, and
    /// with <paramref name="installPmd"/> (MADV_COLLAPSE) the folio is mapped by a PMD (set_huge_pmd()).
    /// A folio that is not uptodate is refused.
    /// </summary>
    ScanResult CollapsePteMappedThp(MmStruct mm, ulong addr, bool installPmd)
    {
        ulong pmdSize = (ulong)Geo.PmdSize, haddr = addr & ~(pmdSize - 1);
        var vma = mm.FindVma(haddr);
        if (vma?.File == null || haddr < vma.Start || haddr + pmdSize > vma.End) return ScanResult.VmaCheck;
        var slot = mm.PageTables.Find(PmdIndex(haddr));
        if (slot is { Kind: PmdKind.Huge }) return ScanResult.PmdMapped;
        if (ThpVmaAllowableOrders(vma, TvaType.ForcedCollapse, 1UL << Geo.PmdOrder) == 0) return ScanResult.VmaCheck;
        // a PMD cannot carry the write protection: the VMA keeps its page table (and markers)
        if ((vma.Flags & VmFlags.UffdWp) != 0) return ScanResult.PteUffdWp;
        int head = vma.File.Cache.Lookup(LinearPageIndex(vma, haddr));
        if (head < 0) return ScanResult.PageNull;
        if (Map.Order(head) != Geo.PmdOrder) return ScanResult.PageCompound;
        // Measured live (6.18.44): a folio fallocate made and nothing wrote is not mapped (SCAN_FAIL,
        // MADV_COLLAPSE -EINVAL); once a write or fault made it uptodate it is.
        if (!ShmemFolioUptodate(head)) return ScanResult.Fail;
        if (slot is { Kind: PmdKind.Table })
        {
            for (int i = 0; i < Geo.PtrsPerPte; i++)
            {
                ulong pte = slot.Ptes![i];
                if (pte == 0) continue;
                if (!Pte.IsPresent(pte)) return ScanResult.PteNonPresent;
                if (Pte.Pfn(pte) != head + i) return ScanResult.Fail;
            }
            // ptep_clear(): unlike a zap, the entries' young bits never reach the folio, so reclaim
            // finds it unreferenced (measured live: a clean folio refaulted by a PMD is then dropped)
            var ptes = slot.Ptes!;
            for (int i = 0; i < ptes.Length; i++) ptes[i] &= ~Pte.Young;
            ZapRange(vma, haddr, haddr + pmdSize);
            FreePageTable(mm, slot.TablePfn);
            slot.TablePfn = -1;
            slot.Kind = PmdKind.None;
            ContForget(slot);
        }
        if (!installPmd) return ScanResult.Succeed;
        // set_huge_pmd(): with no PMD entry found, the PUD and PMD pages are allocated first
        if (slot == null && !PmdAlloc(mm, PmdIndex(haddr))) return ScanResult.Fail;
        slot ??= mm.PageTables.GetOrCreate(PmdIndex(haddr));
        MapFilePmd(vma, slot, head, write: false);   // set_huge_pmd(): vm_page_prot, young, not dirty
        return ScanResult.Succeed;
    }
}
