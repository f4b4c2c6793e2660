using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Shmem;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/userfaultfd.c mfill_atomic(): UFFDIO_COPY, UFFDIO_ZEROPAGE and UFFDIO_CONTINUE fill pages of a registered range, one base page at a time.
public sealed partial class Kernel
{
    enum MfillMode { Copy, Zeropage, Continue }

    /// <summary>
    /// UFFDIO_COPY: each page of [start, start + len) gets a new order-0 page of new content (in a
    /// shared shmem mapping, a new page of the file). Returns the bytes filled; -errno when the first
    /// page failed (-EEXIST where something is mapped already, or the file has that page).
    /// </summary>
    public long UffdCopy(MmStruct mm, ulong start, ulong len) => MfillAtomic(mm, start, len, MfillMode.Copy);

    /// <summary>UFFDIO_ZEROPAGE: each page maps the shared zero page (in a shared shmem mapping, a new zeroed page of the file). Bytes filled or -errno.</summary>
    public long UffdZeropage(MmStruct mm, ulong start, ulong len) => MfillAtomic(mm, start, len, MfillMode.Zeropage);

    /// <summary>UFFDIO_CONTINUE: each page maps the page the shmem file already has there (minor faults). Bytes mapped or -errno.</summary>
    public long UffdContinue(MmStruct mm, ulong start, ulong len) => MfillAtomic(mm, start, len, MfillMode.Continue);

    /// <summary>
    /// What a harness wants to know about pages filled with new content (UFFDIO_COPY's token, 0 for
    /// zeroes), in order; recorded only while this is not null.
    /// </summary>
    public List<(MmStruct Mm, ulong Address, uint Token)>? UffdFillLog { get; set; }

    /// <summary>
    /// models mfill_atomic(): the whole range must lie in one VMA registered with userfaultfd
    /// (-ENOENT); a PMD mapping there is never replaced (-EEXIST); the first failing page ends it.
    /// </summary>
    long MfillAtomic(MmStruct mm, ulong start, ulong len, MfillMode mode)
    {
        if (ValidateUffdRange(start, len) is var bad and < 0) return bad;
        var vma = mm.FindVma(start);
        // uffd_mfill_lock(): find_vma_and_prepare_anon() gives a private VMA its anon_vma before the range
        // and the registration are checked, so a copy refused with -ENOENT still leaves one
        if (vma is { IsShared: false } && !AnonVmaPrepare(vma)) return FaultOomRc(mm);
        if (vma == null || start + len > vma.End || !UserfaultfdArmed(vma)) return -Errno.ENOENT;
        if (mode == MfillMode.Continue && vma.File == null) return -Errno.EINVAL;
        ulong pageSize = (ulong)Geo.PageSize;
        long filled = 0, err = 0;
        for (ulong addr = start; addr < start + len; addr += pageSize)
        {
            // mm_alloc_pmd()
            if (!PmdAlloc(mm, PmdIndex(addr))) { err = -Errno.ENOMEM; break; }
            var slot = mm.PageTables.GetOrCreate(PmdIndex(addr));
            if (slot.Kind == PmdKind.None && !InstallPteTable(mm, slot)) { err = -Errno.ENOMEM; break; }
            if (slot.Kind != PmdKind.Table) { err = -Errno.EEXIST; break; }
            err = mode switch
            {
                MfillMode.Continue => MfillAtomicPteContinue(vma, slot, addr),
                _ when vma.IsShared => ShmemMfillAtomicPte(vma, slot, addr, mode == MfillMode.Zeropage),
                MfillMode.Copy => MfillAtomicPteCopy(vma, slot, addr),
                _ => MfillAtomicPteZeropage(vma, slot, addr),
            };
            if (err != 0) break;
            filled += (long)pageSize;
        }
        return filled > 0 ? filled : err;
    }

    /// <summary>models mfill_file_over_size(): a file page at or past EOF cannot be filled.</summary>
    bool MfillFileOverSize(Vma.Vma vma, ulong addr) =>
        vma.File is { } f && LinearPageIndex(vma, addr) >= PagesOf(f.Size);

    /// <summary>models mfill_atomic_pte_copy(): a new exclusive order-0 anonymous page, allocated and charged before the PTE is looked at.</summary>
    long MfillAtomicPteCopy(Vma.Vma vma, PmdSlot slot, ulong addr)
    {
        var mm = vma.Mm;
        int page = AllocChargedPage(PageKind.Anon, mm);
        if (page < 0) return -Errno.ENOMEM;
        int idx = PteIndex(addr);
        // mfill_atomic_install_pte(): pte_none_mostly(): a uffd-wp marker is replaced (and the protection with it)
        long rc = MfillFileOverSize(vma, addr) ? -Errno.EFAULT : !Pte.IsNoneMostly(slot.Ptes![idx]) ? -Errno.EEXIST : 0;
        if (rc != 0)
        {
            FolioPut(page);
            return rc;
        }
        uint token = NextToken();
        Map.SetContent(page, token);
        FolioAddNewAnonRmap(page, vma, addr, pmdMapped: false);
        mm.Rss[(int)RssMember.AnonPages]++;
        slot.Ptes![idx] = Pte.Make(page, Pte.Young | Pte.Dirty | MkWrite(vma));   // mfill_atomic_install_pte(): always dirty
        SetPtesWork(1);
        Work(Cost.KernelWork.PagesCopied);   // copy_from_user() of the page
        RecordFill(vma, slot, idx, addr, token);
        return 0;
    }

    /// <summary>models mfill_atomic_pte_zeropage(): the shared zero page, read-only, only where the entry is pte_none() (not a marker).</summary>
    long MfillAtomicPteZeropage(Vma.Vma vma, PmdSlot slot, ulong addr)
    {
        int idx = PteIndex(addr);
        if (MfillFileOverSize(vma, addr)) return -Errno.EFAULT;
        if (slot.Ptes![idx] != 0) return -Errno.EEXIST;
        slot.Ptes[idx] = Pte.ZeroPage;
        SetPtesWork(1);
        RecordFill(vma, slot, idx, addr, 0);
        return 0;
    }

    /// <summary>
    /// models shmem_mfill_atomic_pte(): a new order-0 page of the file at the page's index (zeroed for
    /// UFFDIO_ZEROPAGE), added to the page cache (-EEXIST if the file has one there) and mapped.
    /// </summary>
    long ShmemMfillAtomicPte(Vma.Vma vma, PmdSlot slot, ulong addr, bool zero)
    {
        var f = vma.File!;
        long index = LinearPageIndex(vma, addr);
        if (OverTmpfsLimit(f, 1)) return -Errno.ENOMEM;   // shmem_inode_acct_blocks()
        if (index >= PagesOf(f.Size)) return -Errno.EFAULT;
        int idx = PteIndex(addr);
        if (f.Cache.Lookup(index) >= 0 || f.Cache.IsSwap(index, out _, out _)) return -Errno.EEXIST;
        int page = AllocChargedPage(PageKind.Shmem, vma.Mm);
        if (page < 0) return -Errno.ENOMEM;
        // The charge may have reclaimed: look again, as the kernel adds under the lock only now.
        if (f.Cache.Lookup(index) >= 0 || f.Cache.IsSwap(index, out _, out _)) { FolioPut(page); return -Errno.EEXIST; }
        if (!AddToPageCache(f, page, index, vma.Mm))
        {
            FolioPut(page);
            return -Errno.ENOMEM;
        }
        uint token = zero ? 0 : NextToken();
        Map.SetContent(page, token);
        // A shared mapping's PTE maps the file's page there, so with none in the file it is pte_none().
        MfillInstallFilePte(vma, slot, idx, page);
        f.RecordContent(index, 1, token);
        RecordFill(vma, slot, idx, addr, token);
        return 0;
    }

    /// <summary>
    /// models mfill_atomic_pte_continue(): the file's page at the index (swapped in, or zeroed if
    /// fallocated) mapped by one PTE; -EFAULT for a hole, -EEXIST where a PTE is.
    /// </summary>
    long MfillAtomicPteContinue(Vma.Vma vma, PmdSlot slot, ulong addr)
    {
        var f = vma.File!;
        long index = LinearPageIndex(vma, addr);
        if (index >= PagesOf(f.Size)) return -Errno.EFAULT;   // shmem_get_folio(): -EINVAL past EOF, made -EFAULT as for a hole
        int head = f.Cache.IsSwap(index, out _, out _) ? ShmemSwapin(f, index, vma: null, fault: false, current: vma.Mm) : f.Cache.Lookup(index);
        if (head == -Errno.ENOMEM) return -Errno.ENOMEM;
        if (head < 0) return -Errno.EFAULT;
        MarkUptodate(head);
        int idx = PteIndex(addr);
        if (MfillFileOverSize(vma, addr)) return -Errno.EFAULT;
        if (!Pte.IsNoneMostly(slot.Ptes![idx])) return -Errno.EEXIST;
        MfillInstallFilePte(vma, slot, idx, head + (int)(index - ShmemOwnerOf(head).Index));
        return 0;
    }

    /// <summary>models mfill_atomic_install_pte() for a page cache page: young and dirty, writable only in a shared writable mapping.</summary>
    void MfillInstallFilePte(Vma.Vma vma, PmdSlot slot, int idx, int pfn)
    {
        int head = Map.HeadOf(pfn);
        bool writable = SharedWritable(vma);   // VM_WRITE, whatever vm_page_prot says
        slot.Ptes![idx] = Pte.Make(pfn, Pte.Young | Pte.Dirty | (writable ? Pte.Write : 0));
        SetPtesWork(1);
        ContTryFold(slot, idx);   // set_pte_at(): the page ending a block of a large folio may fold it
        Map.AddRef(head, 1);
        FolioAddFileRmapPtes(head, pfn, 1, vma.Mm);
        vma.Mm.Rss[(int)RssMember.ShmemPages]++;
    }

    /// <summary>The program reads the filled page's new content: the model's own record, and the harness's log.</summary>
    void RecordFill(Vma.Vma vma, PmdSlot slot, int idx, ulong addr, uint token)
    {
        if (TrackExpectedContent && !vma.IsShared)
            ExpectedForWrite(slot)[idx] = token != 0 ? token : vma.File != null ? PmdSlot.MaybeZero : 0;
        UffdFillLog?.Add((vma.Mm, addr, token));
    }
}
