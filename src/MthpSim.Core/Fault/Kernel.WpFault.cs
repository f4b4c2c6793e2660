using MthpSim.Core.Fault;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// Write faults on present, write-protected entries: do_wp_page() and do_huge_pmd_wp_page().
public sealed partial class Kernel
{
    /// <summary>
    /// models do_huge_pmd_wp_page(): the huge zero PMD is replaced by a new THP (or split on failure);
    /// an exclusive THP is reused; a shared one is split at the PMD and handled at the PTE level.
    /// </summary>
    FaultResult DoHugePmdWpPage(Vma.Vma vma, PmdSlot slot, ulong addr)
    {
        using var cost = ChargeTo(Cost.CostOp.Cow);
        ulong haddr = addr & ~((ulong)Geo.PmdSize - 1);
        if (slot.Kind == PmdKind.HugeZero)
        {
            // models do_huge_zero_wp_pmd()
            int head = VmaAllocAnonFolioPmd(vma);
            if (head >= 0)
            {
                MapAnonFolioPmd(vma, slot, head, haddr);
                return FaultResult.Ok;
            }
            SplitHugePmd(vma, slot, haddr);
            return FaultResult.Fallback;
        }
        int folio = Pte.Pfn(slot.Leaf);
        if (Map.Test(folio, PageFlags.AnonExclusive) || Map.Refcount(folio) == 1)
        {
            Map.Set(folio, PageFlags.AnonExclusive);   // the head page speaks for a PMD mapping
            slot.Leaf |= Pte.Young | Pte.Dirty | MkWrite(vma);
            SetPtesWork(1);
            Paths.WpReuse++;
            return FaultResult.Ok;
        }
        SplitHugePmd(vma, slot, haddr);
        return FaultResult.Fallback;
    }

    static ulong MkWrite(Vma.Vma vma) => (vma.Flags & VmFlags.Write) != 0 ? Pte.Write : 0;

    /// <summary>
    /// models do_wp_page(): reuse an exclusive page (or a folio only this mapping holds), else copy the
    /// one faulting page into a new order-0 folio (wp_page_copy()); large folios are never copied whole.
    /// </summary>
    FaultResult DoWpPage(Vma.Vma vma, PmdSlot slot, ulong addr)
    {
        using var cost = ChargeTo(Cost.CostOp.Cow);
        int idx = PteIndex(addr);
        ulong pte = slot.Ptes![idx];
        if (UserfaultfdEntryWp(vma, pte)) return HandleUserfault(vma, addr, Userfaultfd.UserfaultReason.WriteProtect);
        if (Pte.IsNormal(pte))
        {
            int pfn = Pte.Pfn(pte);
            int head = Map.HeadOf(pfn);
            if (Map.Kind(head) == PageKind.Anon && (Map.Test(pfn, PageFlags.AnonExclusive) || WpCanReuseAnonFolio(head)))
            {
                Map.Set(pfn, PageFlags.AnonExclusive);
                ContTryUnfold(slot, idx);   // contpte_ptep_set_access_flags(): the write bit changes
                slot.Ptes[idx] = slot.Ptes[idx] | Pte.Young | Pte.Dirty | MkWrite(vma);
                SetPtesWork(1);
                Paths.WpReuse++;
                return FaultResult.Ok;
            }
        }
        return WpPageCopy(vma, slot, addr);
    }

    /// <summary>
    /// models wp_can_reuse_anon_folio(): a small folio is reused when this mapping holds its only
    /// reference (after a swap cache that no swap entry needs any more let go of it); a large one
    /// when __wp_can_reuse_large_anon_folio() says every mapping and reference is this mm's: more
    /// than one mapping (a lone mapped page is copied so the folio can be freed), not maybe mapped
    /// shared, and no reference beyond the mappings (no pin, no swap cache it cannot leave).
    /// </summary>
    bool WpCanReuseAnonFolio(int head)
    {
        if (Map.Order(head) == 0)
        {
            if (Lru != null && !Lru.OnLru(head)) LruAddDrain();   // references from an LRU batch
            if (Map.Refcount(head) > 1 + (InSwapCache(head) ? 1 : 0)) return false;
            FolioFreeSwap(head);
            return Map.Refcount(head) == 1;
        }
        var lf = Map.Large(head);
        if (lf.LargeMapcount <= 1) return false;
        if (lf.MaybeMappedShared) return false;
        FolioFreeSwap(head);   // fails while a swap entry still needs the slots
        return lf.LargeMapcount == Map.Refcount(head);
    }

    /// <summary>models wp_page_copy(): a new exclusive order-0 page with the old content (or zeroes).</summary>
    FaultResult WpPageCopy(Vma.Vma vma, PmdSlot slot, ulong addr)
    {
        Paths.WpCopy++;
        if (!AnonVmaPrepare(vma)) return FaultResult.Oom;
        int idx = PteIndex(addr);
        ulong old = slot.Ptes![idx];
        // do_wp_page() holds the old folio while the copy is allocated (and charged: reclaim for the
        // charge must not discard it if it is lazily freed)
        int oldHead = Pte.IsNormal(old) ? Map.HeadOf(Pte.Pfn(old)) : -1;
        if (oldHead >= 0) Map.AddRef(oldHead, 1);
        int page = AllocChargedPage(PageKind.Anon, vma.Mm);
        if (oldHead >= 0) FolioPut(oldHead);
        if (page < 0) return FaultResult.Oom;
        if (slot.Ptes[idx] != old)
        {
            FolioPut(page);   // the PTE changed meanwhile (pte_same() failed): back off, fault again
            return FaultResult.Ok;
        }
        MmStruct mm = vma.Mm;
        bool fromFile = false;
        if (Pte.IsNormal(old))
        {
            int oldPfn = Pte.Pfn(old);
            Map.SetContent(page, Map.Content(oldPfn));
            Work(Cost.KernelWork.PagesCopied);   // copy_user_highpage()
            if (Map.Kind(Map.HeadOf(oldPfn)) == PageKind.Shmem)
            {
                // a page cache page of a private file mapping: the copy counts as anonymous from now on
                fromFile = true;
                mm.Rss[(int)RssMember.ShmemPages]--;
                mm.Rss[(int)RssMember.AnonPages]++;
            }
            FolioRemoveRmapPtes(Map.HeadOf(oldPfn), oldPfn, 1, mm);
            FreeSwapCache(Map.HeadOf(oldPfn));
            FolioPut(Map.HeadOf(oldPfn));
        }
        else
        {
            mm.Rss[(int)RssMember.AnonPages]++;   // the zero page was not counted
            Work(Cost.KernelWork.PagesZeroed);
        }
        FolioAddNewAnonRmap(page, vma, addr, pmdMapped: false);
        ContTryUnfold(slot, idx);   // ptep_clear_flush()
        slot.Ptes[idx] = Pte.Make(page, Pte.Young | MkWriteDirty(vma));
        SetPtesWork(1);
        Work(Cost.KernelWork.TlbFlushes);   // ptep_clear_flush() of the old entry
        if (fromFile) RecordPrivateCopy(slot, idx, page);
        return FaultResult.Ok;
    }
}
