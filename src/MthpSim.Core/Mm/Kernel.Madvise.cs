using MthpSim.Core.Fault;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

/// <summary>madvise() advice values the model knows.</summary>
public enum MadviseAdvice { Hugepage, Nohugepage, Dontneed, Free, Collapse, PopulateRead, PopulateWrite, Pageout, Cold, Remove }

// mm/madvise.c and hugepage_madvise() in mm/khugepaged.c.
public sealed partial class Kernel
{
    /// <summary>madvise(start, len, advice): 0 or the kernel's negative errno.</summary>
    public long Madvise(MmStruct mm, ulong start, ulong len, MadviseAdvice advice)
    {
        using var cost = ChargeTo(mm, advice == MadviseAdvice.Collapse ? Cost.CostOp.Collapse : Cost.CostOp.Madvise);
        long zaps = WorkCharged(Cost.KernelWork.ZapBatches);
        long rc = DoMadvise(mm, start, len, advice);
        if (WorkCharged(Cost.KernelWork.ZapBatches) != zaps) Work(Cost.KernelWork.TlbFlushes);   // tlb_finish_mmu()
        return rc;
    }

    /// <summary>madvise()'s work, charged to the process by <see cref="Madvise"/>.</summary>
    long DoMadvise(MmStruct mm, ulong start, ulong len, MadviseAdvice advice)
    {
        if (!PageAligned(start)) return -Errno.EINVAL;
        if (len == 0) return 0;
        ulong end = start + PageAlignUp(len);
        if (end < start || end > TaskSize) return -Errno.EINVAL;
        switch (advice)
        {
            case MadviseAdvice.Hugepage:
                // models hugepage_madvise(MADV_HUGEPAGE)
                return ModifyVmaRange(mm, start, end, vma =>
                {
                    var flags = (vma.Flags & ~VmFlags.Nohugepage) | VmFlags.Hugepage;
                    // hugepage_madvise() offers the VMA before its flags change, even when nothing changes;
                    // shmem_allowable_huge_orders() reads vma->vm_flags, so a shmem VMA is judged on its old
                    // flags (live: MADV_HUGEPAGE alone never registers a shmem_enabled=advise mapping).
                    if (flags == vma.Flags || vma.File != null) KhugepagedEnterVma(vma);
                    return flags;
                }, v => { if (v.File == null) KhugepagedEnterVma(v); });
            case MadviseAdvice.Nohugepage:
                return ModifyVmaRange(mm, start, end, vma => (vma.Flags & ~VmFlags.Hugepage) | VmFlags.Nohugepage);
            case MadviseAdvice.Dontneed:
                // models madvise_dontneed_single_vma(): a zap that may free emptied page tables
                return WalkVmas(mm, start, end, (vma, s, e) =>
                {
                    LruAddDrain();   // zap_page_range_single_batched()
                    ZapRange(vma, s, e, reclaimPt: true);
                    return 0;
                });
            case MadviseAdvice.Free:
                return WalkVmas(mm, start, end, MadviseFree);
            case MadviseAdvice.Collapse:
                return WalkVmas(mm, start, end, MadviseCollapse);
            case MadviseAdvice.Remove:
                return WalkVmas(mm, start, end, MadviseRemove);
            case MadviseAdvice.Cold:
            case MadviseAdvice.Pageout:
                return WalkVmas(mm, start, end, (vma, s, e) => MadviseColdOrPageout(vma, s, e, pageout: advice == MadviseAdvice.Pageout));
            case MadviseAdvice.PopulateRead:
            case MadviseAdvice.PopulateWrite:
                return MadvisePopulate(mm, start, end, advice == MadviseAdvice.PopulateWrite);
            default:
                throw new NotSupportedException($"madvise {advice} is not supported yet");
        }
    }

    /// <summary>models madvise_remove(): a hole punched in the file behind a shared mapping (anonymous memory: -EINVAL; a private file mapping: -EACCES).</summary>
    long MadviseRemove(Vma.Vma vma, ulong start, ulong end)
    {
        if (vma.File == null) return -Errno.EINVAL;
        if (!vma.IsShared) return -Errno.EACCES;
        long offset = (vma.PgOff << PageShift) + (long)(start - vma.Start);
        return Fallocate(vma.File, punch: true, offset, (long)(end - start), vma.Mm);
    }

    /// <summary>models madvise_walk_vmas(): applies to each mapped piece; holes give -ENOMEM at the end.</summary>
    long WalkVmas(MmStruct mm, ulong start, ulong end, Func<Vma.Vma, ulong, ulong, long> visit)
    {
        long rc = 0;
        ulong cursor = start;
        foreach (var vma in mm.Intersecting(start, end).ToList())
        {
            if (vma.Start > cursor) rc = -Errno.ENOMEM;
            long r = visit(vma, Math.Max(start, vma.Start), Math.Min(end, vma.End));
            if (r < 0) return r;
            cursor = vma.End;
        }
        if (cursor < end) rc = -Errno.ENOMEM;
        return rc;
    }

    /// <summary>
    /// models madvise_free_single_vma(): a folio covered whole is marked lazily freed (clean, old);
    /// a large folio covered in part is split first (madvise_free_huge_pmd(), madvise_free_pte_range()).
    /// A large folio another process may map is left alone, unless covered whole by PTEs.
    /// </summary>
    long MadviseFree(Vma.Vma vma, ulong start, ulong end)
    {
        if (!vma.IsAnonymous || (vma.Flags & VmFlags.Shared) != 0) return -Errno.EINVAL;
        LruAddDrain();
        WalkPmdRange(vma.Mm, start, end, (slot, addr, next) =>
        {
            int head = slot.Kind == PmdKind.Huge ? Pte.Pfn(slot.Leaf) : -1;
            // models madvise_free_huge_pmd(): a PMD THP mapped by another process too is skipped
            if (head >= 0 && !FolioMaybeMappedShared(head))
            {
                if (next - addr == (ulong)Geo.PmdSize)
                {
                    Map.Clear(head, PageFlags.Dirty);
                    slot.Leaf &= ~(Pte.Dirty | Pte.Young);
                    MarkLazyFree(head);
                }
                else
                {
                    SplitFolio(head);
                }
            }
            if (slot.Kind == PmdKind.Table) MadviseFreePteRange(vma.Mm, slot, addr, next);
            MarkExpectedMaybeZero(slot, addr, next);
        });
        return 0;
    }

    /// <summary>models madvise_free_pte_range() over the PTEs of one table.</summary>
    void MadviseFreePteRange(MmStruct mm, PmdSlot slot, ulong addr, ulong next)
    {
        var ptes = slot.Ptes!;
        var (i, endIdx) = PteSpan(addr, next);
        while (i < endIdx)
        {
            ulong pte = ptes[i];
            if (Pte.IsSwap(pte))
            {
                // Swapped-out contents are dropped at once (free_swap_and_cache_nr()).
                FreeSwapEntry(mm, pte);
                ptes[i++] = 0;
                continue;
            }
            if (!Pte.IsNormal(pte)) { i++; continue; }
            int pfn = Pte.Pfn(pte);
            int head = Map.HeadOf(pfn);
            int nrPages = 1 << Map.Order(head);
            int nr = FolioPteBatch(ptes, i, endIdx, pfn, head + nrPages);
            if (nrPages > 1 && nr < nrPages)
            {
                // Split a folio not covered whole, then look at this PTE again; one another process
                // may map is left whole, since it could not be freed unless they all free it.
                if (!FolioMaybeMappedShared(head) && SplitFolio(head)) continue;
                i += nr;
                continue;
            }
            if (InSwapCache(head) || Map.Test(head, PageFlags.Dirty))
            {
                // A dirty folio is cleaned only when these PTEs are all its mappings, and one in the
                // swap cache only if it can leave it (no swap entry needs its slots).
                if (Map.FolioMapcount(head) != nrPages) { i += nr; continue; }
                if (InSwapCache(head) && !FolioFreeSwap(head)) { i += nr; continue; }
                Map.Clear(head, PageFlags.Dirty);
            }
            ContClearAccessBits(slot, i, nr, Pte.Dirty | Pte.Young);   // clear_young_dirty_ptes()
            MarkLazyFree(head);
            i += nr;
        }
    }

    /// <summary>models folio_mark_lazyfree() and lru_lazyfree_fn(): no longer swap-backed, and off the active list with no references.</summary>
    void MarkLazyFree(int head)
    {
        // A folio already lazily freed (not swap-backed) is left as it is, on whichever list it is.
        if (Map.Test(head, PageFlags.LazyFree)) return;
        Map.Set(head, PageFlags.LazyFree);
        Map.Clear(head, PageFlags.Active | PageFlags.Referenced);
        if (Lru == null || !Lru.OnLru(head)) return;
        LruMoveToHead(head);
        Stats.Count(VmEvent.Pglazyfree, 1 << Map.Order(head));
    }

    void MarkExpectedMaybeZero(PmdSlot slot, ulong addr, ulong next)
    {
        if (slot.Expected == null) return;
        var (first, end) = PteSpan(addr, next);
        var expected = ExpectedForWrite(slot);
        for (int i = first; i < end; i++)
            if (expected[i] != 0) expected[i] |= PmdSlot.MaybeZero;
    }

    /// <summary>models madvise_populate(): read or write faults over the range, without storing data.</summary>
    long MadvisePopulate(MmStruct mm, ulong start, ulong end, bool write)
    {
        Vma.Vma? vma = null;
        for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
        {
            if (vma == null || addr >= vma.End) vma = mm.FindVma(addr);
            if (vma == null) return -Errno.ENOMEM;
            if (!VmaPermits(vma, write)) return -Errno.EINVAL;
            if (!MappedWith(mm, addr, write) && FaultIn(vma, addr, write) is long rc and < 0) return rc;
            GupTouch(mm, addr, write);   // the page is followed once it is mapped (after a fault, on the retry)
        }
        return 0;
    }

    /// <summary>
    /// models FOLL_TOUCH in follow_page_pte() and follow_huge_pmd(): through a PTE, a write to a clean
    /// entry marks the folio dirty (folio_mark_dirty()) and every page is folio_mark_accessed(); a PMD
    /// is made young, and dirty for a write (touch_pmd()), the folio left as it is.
    /// </summary>
    void GupTouch(MmStruct mm, ulong addr, bool write)
    {
        var slot = mm.PageTables.Find(PmdIndex(addr))!;
        if (slot.Kind == PmdKind.Huge) { slot.Leaf |= Pte.Young | (write ? Pte.Dirty : 0); return; }
        if (slot.Kind != PmdKind.Table) return;
        ulong pte = slot.Ptes![PteIndex(addr)];
        if (!Pte.IsNormal(pte)) return;
        int head = Map.HeadOf(Pte.Pfn(pte));
        if (write && !Pte.IsDirty(pte)) Map.Set(head, PageFlags.Dirty);
        FolioMarkAccessed(head);
    }

    /// <summary>
    /// models folio_mark_accessed() with the classic LRU (this kernel has no MGLRU): the first call
    /// sets PG_referenced, the next one activates the folio and clears it.
    /// </summary>
    void FolioMarkAccessed(int head)
    {
        if (!Map.Test(head, PageFlags.Referenced)) Map.Set(head, PageFlags.Referenced);
        else if (!Map.Test(head, PageFlags.Active))
        {
            FolioActivate(head);
            Map.Clear(head, PageFlags.Referenced);
            if (Lru != null) WorkingsetAgeNonresident(LruvecOf(head), 1 << Map.Order(head));   // workingset_activation()
        }
    }

    /// <summary>prctl(PR_SET_THP_DISABLE, value, 0, 0, 0).</summary>
    public long PrctlThpDisable(MmStruct mm, long value)
    {
        mm.ThpDisabled = value != 0;
        mm.ThpDisabledExceptAdvised = false;
        return 0;
    }
}
