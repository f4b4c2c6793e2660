using MthpSim.Core.Fault;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Shmem;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/memory.c do_fault() for shmem VMAs, mm/filemap.c filemap_map_pages(), mm/shmem.c shmem_fault().
public sealed partial class Kernel
{
    /// <summary>fault_around_bytes (debugfs, default 64K) in pages.</summary>
    int FaultAroundPages => (int)Math.Max(1, 65536 / Geo.PageSize);

    /// <summary>
    /// models handle_pte_fault() → do_fault() for a shared shmem VMA: a present entry only needs its
    /// bits (a shared page becomes writable in place, wp_page_shared()); otherwise a read tries
    /// fault-around first, then shmem_fault() finds or allocates the folio and finish_fault() maps it.
    /// </summary>
    FaultResult ShmemHandleFault(Vma.Vma vma, ulong addr, bool write)
    {
        var mm = vma.Mm;
        var f = vma.File!;
        if (!vma.IsShared) return ShmemPrivateFault(vma, addr, write);
        ulong pmdSize = (ulong)Geo.PmdSize;
        var slot = mm.PageTables.Find(PmdIndex(addr));
        if (slot is { Kind: PmdKind.Huge })
        {
            if (!write) { slot.Leaf |= Pte.Young; return FaultResult.Ok; }
            if (Pte.IsWrite(slot.Leaf)) { slot.Leaf |= Pte.Young | Pte.Dirty; return FaultResult.Ok; }
            // wp_huge_pmd(): shmem has no huge_fault, so the PMD is split (for a file: dropped) and the PTE level takes the fault
            SplitHugePmd(vma, slot, addr & ~(pmdSize - 1));
        }
        bool uffdWp = false;
        if (slot is { Kind: PmdKind.Table })
        {
            int idx = PteIndex(addr);
            ulong pte = slot.Ptes![idx];
            if (Pte.IsMarker(pte) && UffdWpMarkerFault(vma, slot, idx) is FaultResult cleared) return cleared;
            uffdWp = Pte.IsMarker(pte);
            if (Pte.IsPresent(pte))
            {
                // Already allowed (the retry after userfaultfd mapped it): only the PTE's bits, as handle_pte_fault() does.
                if (!write || Pte.IsWrite(pte)) { ContSetAccessBits(slot, idx, Pte.Young | (write ? Pte.Dirty : 0)); return FaultResult.Ok; }
                // do_wp_page(): a write-protected entry goes to userfaultfd; else wp_page_shared() reuses the page
                if (UserfaultfdEntryWp(vma, pte)) return HandleUserfault(vma, addr, Userfaultfd.UserfaultReason.WriteProtect);
                ContTryUnfold(slot, idx);   // contpte_ptep_set_access_flags(): the write bit changes
                slot.Ptes[idx] = slot.Ptes[idx] | Pte.Write | Pte.Dirty | Pte.Young;
                Map.Set(Map.HeadOf(Pte.Pfn(pte)), PageFlags.Dirty);
                return FaultResult.Ok;
            }
        }
        long index = LinearPageIndex(vma, addr);
        // do_read_fault(): fault-around first (it maps what lies within i_size), then the page itself
        if (!write && ShouldFaultAround(vma) && DoFaultAround(vma, addr, index)) return FaultResult.Ok;
        if (index >= PagesOf(f.Size)) return FaultResult.SigBus;
        if (ShmemUserfault(vma, f, addr, index) is FaultResult delivered) return delivered;
        int head = ShmemGetFolioForFault(f, vma, addr, index);
        if (head < 0) return head == -Errno.ENOMEM ? FaultResult.Oom : FaultResult.SigBus;
        var r = FinishFaultLocked(vma, addr, head, index, write, uffdWp);
        if (r == FaultResult.Ok && write) Map.Set(head, PageFlags.Dirty);   // fault_dirty_shared_page()
        return r;
    }

    /// <summary>
    /// models handle_pte_marker() → pte_marker_handle_uffd_wp() for the uffd-wp marker at PTE
    /// <paramref name="idx"/>: in a VMA that is no longer write-protect registered the marker is only
    /// dropped (pte_marker_clear(); the access faults again); null otherwise: the fault goes on as on an
    /// empty entry (do_pte_missing()), and what it maps is write-protected.
    /// </summary>
    static FaultResult? UffdWpMarkerFault(Vma.Vma vma, PmdSlot slot, int idx)
    {
        if ((vma.Flags & VmFlags.UffdWp) != 0) return null;
        slot.Ptes![idx] = 0;
        return FaultResult.Ok;
    }

    /// <summary>models should_fault_around(): fault_around_bytes above a page, and no userfaultfd mode that wants every fault.</summary>
    bool ShouldFaultAround(Vma.Vma vma) => FaultAroundPages > 1 && !UffdDisableFaultAround(vma);

    /// <summary>
    /// The userfaultfd part of shmem_get_folio_gfp() for a fault: in minor mode a page the file has
    /// (or has swapped out) is delivered before it is mapped; in missing mode a hole is delivered before
    /// a page is allocated. Null when the fault goes on in the kernel.
    /// </summary>
    FaultResult? ShmemUserfault(Vma.Vma vma, ShmemFile f, ulong addr, long index)
    {
        if ((vma.Flags & (VmFlags.UffdMinor | VmFlags.UffdMissing)) == 0) return null;
        bool present = f.Cache.Lookup(index) >= 0 || f.Cache.IsSwap(index, out _, out _);
        if (present && UserfaultfdMinor(vma)) return HandleUserfault(vma, addr, Userfaultfd.UserfaultReason.Minor);
        if (!present && UserfaultfdMissing(vma)) return HandleUserfault(vma, addr, Userfaultfd.UserfaultReason.Missing);
        return null;
    }

    /// <summary>The folio a fault holds locked from shmem_fault() until it is mapped: reclaim (a page table's charge may reclaim) leaves it alone.</summary>
    int _faultLockedFolio = -1;

    /// <summary>finish_fault() with the folio locked, as shmem_fault() returns it.</summary>
    FaultResult FinishFaultLocked(Vma.Vma vma, ulong addr, int head, long index, bool write, bool uffdWp = false)
    {
        _faultLockedFolio = head;
        try { return FinishFault(vma, addr, head, index, write, uffdWp); }
        finally { _faultLockedFolio = -1; }
    }

    /// <summary>
    /// models do_fault() on a private (MAP_PRIVATE) shmem mapping: reads map the page cache read-only
    /// (do_read_fault(), fault-around included); a write to a page not mapped copies the page cache's
    /// page into a new anonymous page (do_cow_fault()), a write to a mapped page cache page copies it
    /// too (do_wp_page() → wp_page_copy()), and a write to an anonymous page is an ordinary COW fault.
    /// A read-only PMD mapping is dropped before a write (wp_huge_pmd() splits it).
    /// </summary>
    FaultResult ShmemPrivateFault(Vma.Vma vma, ulong addr, bool write)
    {
        var mm = vma.Mm;
        var f = vma.File!;
        var slot = mm.PageTables.Find(PmdIndex(addr));
        if (slot is { Kind: PmdKind.Huge })
        {
            if (!write) { slot.Leaf |= Pte.Young; return FaultResult.Ok; }
            SplitHugePmd(vma, slot, addr & ~((ulong)Geo.PmdSize - 1));
        }
        // A private copy swapped out is an anonymous page's entry: do_swap_page().
        if (slot is { Kind: PmdKind.Table } && Pte.IsSwap(slot.Ptes![PteIndex(addr)])) return DoSwapPage(vma, slot, addr, write);
        bool uffdWp = slot is { Kind: PmdKind.Table } && Pte.IsMarker(slot.Ptes![PteIndex(addr)]);
        if (uffdWp && UffdWpMarkerFault(vma, slot!, PteIndex(addr)) is FaultResult cleared) return cleared;
        if (slot is { Kind: PmdKind.Table } && Pte.IsPresent(slot.Ptes![PteIndex(addr)]))
        {
            int idx = PteIndex(addr);
            ulong pte = slot.Ptes[idx];
            if (!write) { ContSetAccessBits(slot, idx, Pte.Young); return FaultResult.Ok; }
            if (Pte.IsWrite(pte)) { ContSetAccessBits(slot, idx, Pte.Young | Pte.Dirty); return FaultResult.Ok; }
            return DoWpPage(vma, slot, addr);
        }
        long index = LinearPageIndex(vma, addr);
        if (!write && ShouldFaultAround(vma) && DoFaultAround(vma, addr, index)) return FaultResult.Ok;
        if (!write)
        {
            if (index >= PagesOf(f.Size)) return FaultResult.SigBus;
            if (ShmemUserfault(vma, f, addr, index) is FaultResult delivered) return delivered;
            int head = ShmemGetFolioForFault(f, vma, addr, index);
            if (head < 0) return head == -Errno.ENOMEM ? FaultResult.Oom : FaultResult.SigBus;
            return FinishFaultLocked(vma, addr, head, index, write: false, uffdWp);
        }
        return DoCowFault(vma, addr, index, uffdWp);
    }

    /// <summary>
    /// models do_cow_fault(): a new order-0 anonymous page (allocated first), the page cache's page at
    /// index found or allocated there, its content copied, and the copy mapped writable and dirty
    /// (in place of a uffd-wp marker, <paramref name="uffdWp"/>: write-protected, so the write faults again).
    /// The VMA gets its anon_vma first, even when shmem_fault() then refuses a page past EOF (SIGBUS).
    /// </summary>
    FaultResult DoCowFault(Vma.Vma vma, ulong addr, long index, bool uffdWp = false)
    {
        var mm = vma.Mm;
        if (!AnonVmaPrepare(vma)) return FaultResult.Oom;   // vmf_anon_prepare()
        if (index >= PagesOf(vma.File!.Size)) return FaultResult.SigBus;
        // The copy's page is allocated before shmem_fault() delivers to userfaultfd, and freed: not observable.
        if (ShmemUserfault(vma, vma.File!, addr, index) is FaultResult delivered) return delivered;
        int page = AllocChargedPage(PageKind.Anon, mm);
        if (page < 0) return FaultResult.Oom;
        int head = ShmemGetFolioForFault(vma.File!, vma, addr, index);
        if (head < 0)
        {
            FolioPut(page);
            return head == -Errno.ENOMEM ? FaultResult.Oom : FaultResult.SigBus;
        }
        var slot = mm.PageTables.GetOrCreate(PmdIndex(addr));
        _faultLockedFolio = head;
        bool table = slot.Kind != PmdKind.None || InstallPteTable(mm, slot);
        _faultLockedFolio = -1;
        if (!table)
        {
            FolioPut(page);
            return FaultResult.Oom;
        }
        Map.SetContent(page, Map.Content(head + (int)(index - ShmemOwnerOf(head).Index)));
        int idx = PteIndex(addr);
        FolioAddNewAnonRmap(page, vma, addr, pmdMapped: false);
        mm.Rss[(int)RssMember.AnonPages]++;
        ulong bits = Pte.Young | MkWriteDirty(vma);
        slot.Ptes![idx] = Pte.Make(page, uffdWp ? (bits & ~Pte.Write) | Pte.UffdWp : bits);
        SetPtesWork(1);
        Work(Cost.KernelWork.PagesCopied);
        RecordPrivateCopy(slot, idx, page);
        return FaultResult.Ok;
    }

    /// <summary>What the program expects from a page it now holds a private copy of: that copy, no longer the file's page (0 is recorded as "zeroes, own").</summary>
    void RecordPrivateCopy(PmdSlot slot, int idx, int page)
    {
        if (!TrackExpectedContent) return;
        uint c = Map.Content(page);
        ExpectedForWrite(slot)[idx] = c != 0 ? c : PmdSlot.MaybeZero;
    }

    /// <summary>
    /// models finish_fault() for a shmem folio: PMD-mapped when the PMD is empty and do_set_pmd() agrees;
    /// otherwise the whole folio by PTEs when it fits the VMA and this page table and every PTE it needs
    /// is empty, else only the faulting page.
    /// </summary>
    FaultResult FinishFault(Vma.Vma vma, ulong addr, int head, long index, bool write, bool uffdWp = false)
    {
        var mm = vma.Mm;
        var slot = mm.PageTables.GetOrCreate(PmdIndex(addr));
        if (slot.Kind == PmdKind.Huge) return FaultResult.Ok;
        if (slot.Kind == PmdKind.None)
        {
            if (DoSetPmd(vma, slot, addr, head, write)) return FaultResult.Ok;
            if (!InstallPteTable(mm, slot)) return FaultResult.Oom;
        }
        int nr = 1 << Map.Order(head);
        int idx = (int)(index - ShmemOwnerOf(head).Index);
        long vmaOff = index - vma.PgOff, vmaPages = (long)(vma.Length >> PageShift);
        int pteOff = PteIndex(addr);
        // A VMA registered with userfaultfd maps only the faulting page: every page must fault on its own.
        bool whole = nr > 1 && !UserfaultfdArmed(vma) && vmaOff >= idx && vmaOff + (nr - idx) <= vmaPages && pteOff >= idx && pteOff + (nr - idx) <= Geo.PtrsPerPte
            && slot.Ptes.AsSpan(pteOff - idx, nr).IndexOfAnyExcept(0UL) < 0;
        if (whole) SetPteRange(vma, slot, pteOff - idx, head, nr, write);
        else if (Pte.IsNoneMostly(slot.Ptes![pteOff])) SetPteRange(vma, slot, pteOff, head + idx, 1, write, uffdWp && Pte.IsMarker(slot.Ptes[pteOff]));
        return FaultResult.Ok;
    }

    bool InstallPteTable(MmStruct mm, PmdSlot slot)
    {
        int table = AllocPageTable(mm);
        if (table < 0) return false;
        slot.Kind = PmdKind.Table;
        slot.TablePfn = table;
        slot.Ptes ??= NewPteTable();
        return true;
    }

    /// <summary>
    /// models set_pte_range() for n pages of one shmem folio: young, writable as the shared VMA allows,
    /// dirty on a write (or when writable and the folio already is), write-protected in place of a
    /// uffd-wp marker (<paramref name="uffdWp"/>); rmap, references and MM_SHMEMPAGES.
    /// </summary>
    void SetPteRange(Vma.Vma vma, PmdSlot slot, int firstPte, int pfn, int n, bool write, bool uffdWp = false)
    {
        int head = Map.HeadOf(pfn);
        ulong flags = FilePteFlags(vma, head, write);
        if (uffdWp) flags = (flags & ~Pte.Write) | Pte.UffdWp;   // vmf_orig_pte_uffd_wp(): pte_mkuffd_wp()
        for (int i = 0; i < n; i++) slot.Ptes![firstPte + i] = Pte.Make(pfn + i, flags);
        SetPtesWork(n);
        ContSetPtes(slot, firstPte, n);
        Map.AddRef(head, n);
        FolioAddFileRmapPtes(head, pfn, n, vma.Mm);
        vma.Mm.Rss[(int)RssMember.ShmemPages] += n;
    }

    /// <summary>
    /// models filemap_map_order0_folio() (set_pte_range(), the reference, the file counter) for each
    /// of <paramref name="n"/> order-0 page-cache folios at consecutive frames from
    /// <paramref name="pfn"/>, mapped by fault-around at consecutive entries from
    /// <paramref name="firstPte"/>: each entry, reference and rmap as one folio's, counted per folio,
    /// in one step. No contiguous-PTE blocks (x86).
    /// </summary>
    void MapSmallFileRun(Vma.Vma vma, PmdSlot slot, int firstPte, int pfn, int n)
    {
        var ptes = slot.Ptes!;
        for (int i = 0; i < n; i++) ptes[firstPte + i] = Pte.Make(pfn + i, FilePteFlags(vma, pfn + i));
        Work(Cost.KernelWork.PteBatches, n);
        Work(Cost.KernelWork.Ptes, n);
        Map.AddRefRun(pfn, n, 1);
        NrFileMapped += Map.AddPteMapcountRun(pfn, n);
        Work(Cost.KernelWork.RmapFolios, n);
        Work(Cost.KernelWork.RmapPages, n);
        vma.Mm.Rss[(int)RssMember.ShmemPages] += n;
    }

    /// <summary>
    /// The bits of a new entry mapping a page of the file folio at <paramref name="head"/>: young, and
    /// writable as vm_page_prot allows, then dirty if the folio is; on a write fault dirty and
    /// writable in a writable shared VMA (maybe_mkwrite(), pte_mkdirty()).
    /// </summary>
    ulong FilePteFlags(Vma.Vma vma, int head, bool write = false)
    {
        if (write) return Pte.Young | Pte.Dirty | (SharedWritable(vma) ? Pte.Write : 0);
        return Pte.Young | (VmPageProtWritable(vma) ? Pte.Write | (Map.Test(head, PageFlags.Dirty) ? Pte.Dirty : 0) : 0);
    }

    /// <summary>
    /// Whether the VMA's vm_page_prot lets new entries be writable: a writable shared mapping, unless
    /// vma_wants_writenotify() asks for write faults, which for shmem only userfaultfd write protection does.
    /// </summary>
    static bool VmPageProtWritable(Vma.Vma vma) => SharedWritable(vma) && (vma.Flags & VmFlags.UffdWp) == 0;

    /// <summary>A writable shared mapping: maybe_mkwrite() makes a written page's entry writable there.</summary>
    static bool SharedWritable(Vma.Vma vma) => vma.IsShared && (vma.Flags & VmFlags.Write) != 0;

    /// <summary>Whether <see cref="MapSmallFileRun"/> is used (tests turn it off to compare with folio-by-folio mapping).</summary>
    internal bool FaultAroundRuns { get; set; } = true;

    /// <summary>
    /// models do_set_pmd(): maps a PMD-sized shmem folio with one PMD entry when the VMA does not refuse
    /// THPs (VM_NOHUGEPAGE, prctl), the aligned range fits it and the file offset is aligned alike.
    /// </summary>
    bool DoSetPmd(Vma.Vma vma, PmdSlot slot, ulong addr, int head, bool write)
    {
        if (Map.Order(head) != Geo.PmdOrder || slot.Kind != PmdKind.None) return false;
        if (VmaThpDisabled(vma, vma.Flags, forcedCollapse: true)) return false;
        ulong haddr = addr & ~((ulong)Geo.PmdSize - 1);
        if (!ThpVmaSuitableOrder(vma, haddr, Geo.PmdOrder)) return false;
        MapFilePmd(vma, slot, head, write);
        return true;
    }

    /// <summary>Maps a PMD-sized shmem folio by one young PMD entry, for a write dirty and writable as the shared VMA allows, else as vm_page_prot allows: rmap, reference, MM_SHMEMPAGES, thp_file_mapped.</summary>
    void MapFilePmd(Vma.Vma vma, PmdSlot slot, int head, bool write)
    {
        ulong bits = write ? Pte.Young | Pte.Dirty : Pte.Young;
        bool writable = write ? SharedWritable(vma) : VmPageProtWritable(vma);
        slot.Kind = PmdKind.Huge;
        slot.Leaf = Pte.Make(head, bits | (writable ? Pte.Write : 0));
        SetPtesWork(1);
        slot.TablePfn = -1;   // x86 deposits no table under a file PMD
        Map.AddRef(head, 1);
        FolioAddFileRmapPmd(head, vma.Mm);
        vma.Mm.Rss[(int)RssMember.ShmemPages] += 1L << Geo.PmdOrder;
        Stats.Count(VmEvent.ThpFileMapped);
    }

    /// <summary>
    /// models do_fault_around() → filemap_map_pages(): maps the uptodate folios already cached in the
    /// fault-around window (clamped to the VMA, the page table and i_size), whole large folios where
    /// they fit the VMA and the page table, a PMD-sized first folio by a PMD. Returns whether the
    /// faulting page is mapped afterwards.
    /// </summary>
    bool DoFaultAround(Vma.Vma vma, ulong addr, long index)
    {
        var f = vma.File!;
        int nrAround = FaultAroundPages;
        long pteOff = PteIndex(addr), vmaOff = index - vma.PgOff, vmaPages = (long)(vma.Length >> PageShift);
        long from = Math.Max(pteOff & ~((long)nrAround - 1), pteOff - Math.Min(pteOff, vmaOff));
        long to = Math.Min(Math.Min(from + nrAround, Geo.PtrsPerPte), pteOff + vmaPages - vmaOff) - 1;
        // end_pgoff stops at the last page of the file: only a whole folio may map past it (shmem)
        to = Math.Min(to, pteOff + (PagesOf(f.Size) - 1 - index));
        long startPg = index + from - pteOff, endPg = index + to - pteOff;
        if (endPg < startPg) return false;
        var folios = FaultAroundFolios(f, startPg, endPg + 1);
        if (folios.Count == 0) return false;
        var mm = vma.Mm;
        var slot = mm.PageTables.GetOrCreate(PmdIndex(addr));
        if (slot.Kind == PmdKind.Huge) return true;
        if (slot.Kind == PmdKind.None)
        {
            // filemap_map_pmd(): the first folio found may map the whole PMD range
            if (DoSetPmd(vma, slot, addr, folios[0].Head, write: false)) return true;
            if (!InstallPteTable(mm, slot)) return false;
            // the table's charge may have reclaimed some of them (the kernel allocates it first)
            folios = FaultAroundFolios(f, startPg, endPg + 1);
        }
        for (int j = 0; j < folios.Count; j++)
        {
            var (first, head) = folios[j];
            int nr = 1 << Map.Order(head);
            // The folio's pages as PTE indexes of this table; whole when it lies in the VMA and the table.
            long folioPte = pteOff + (first - index);
            if (nr == 1 && FaultAroundRuns && Geo.ContPtes == 0 && slot.Ptes![folioPte] == 0)
            {
                // order-0 folios at consecutive frames and indexes, their entries empty: a library's pages
                int run = 1;
                while (j + run < folios.Count && folios[j + run] == (first + run, head + run)
                       && Map.Order(head + run) == 0 && slot.Ptes[folioPte + run] == 0)
                    run++;
                MapSmallFileRun(vma, slot, (int)folioPte, head, run);
                j += run - 1;
                continue;
            }
            bool whole = first >= vma.PgOff && first + nr <= vma.PgOff + vmaPages && folioPte >= 0 && folioPte + nr <= Geo.PtrsPerPte;
            long lo = whole ? folioPte : Math.Max(folioPte, from), hi = whole ? folioPte + nr : Math.Min(folioPte + nr, to + 1);
            for (long p = lo; p < hi;)
            {
                if (slot.Ptes![p] != 0) { p++; continue; }
                long run = 1;
                while (p + run < hi && slot.Ptes[p + run] == 0) run++;
                SetPteRange(vma, slot, (int)p, head + (int)(p - folioPte), (int)run, write: false);
                p += run;
            }
        }
        return Pte.IsPresent(slot.Ptes![pteOff]);
    }

    /// <summary>The uptodate folios of the file's page cache holding any index of [from, to), in a list reused from fault to fault.</summary>
    List<(long Index, int Head)> FaultAroundFolios(Shmem.ShmemFile f, long from, long to)
    {
        var list = _faultAroundFolios;
        list.Clear();
        f.Cache.Folios(from, to, _folioPages ??= h => 1 << Map.Order(h), list);
        if (_notUptodate.Count > 0) list.RemoveAll(x => _notUptodate.Contains(x.Head));
        return list;
    }

    readonly List<(long Index, int Head)> _faultAroundFolios = [];
    Func<int, int>? _folioPages;
}
