using MthpSim.Core.Fault;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/memory.c and mm/huge_memory.c: anonymous page faults and the choice of folio order.
public sealed partial class Kernel
{
    /// <summary>
    /// models handle_mm_fault(): a fault at <paramref name="addr"/> inside <paramref name="vma"/>, then its accounting.
    /// Returns Ok when the page is mapped with the access's permission afterwards.
    /// </summary>
    /// <remarks>
    /// <paramref name="tried"/> is FAULT_FLAG_TRIED: the fault is the retry of one that returned
    /// VM_FAULT_RETRY (after userfaultfd resolved it) and counts as major when it completes.
    /// </remarks>
    internal FaultResult HandleMmFault(Vma.Vma vma, ulong addr, bool write, bool tried = false)
    {
        _faultMajor = false;
        using var cost = ChargeTo(vma.Mm, Cost.CostOp.Fault);
        var r = DoHandleMmFault(vma, addr, write);
        MmAccountFault(vma.Mm, r, tried);
        return r;
    }

    /// <summary>
    /// models mm_account_fault(): nothing for a fault that returned VM_FAULT_RETRY (its retry is
    /// counted); pgfault for every other; for those that did not fail, the task's maj_flt if it read
    /// from swap or was a retry, else min_flt.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void MmAccountFault(MmStruct mm, FaultResult r, bool tried)
    {
        if (r is FaultResult.Retry or FaultResult.Blocked) return;
        Stats.Count(VmEvent.PgFault);
        Work(Cost.KernelWork.Faults);
        if (r is not (FaultResult.Ok or FaultResult.Fallback)) return;
        if (_faultMajor || tried) mm.MajFlt++; else mm.MinFlt++;
    }

    /// <summary>models __handle_mm_fault()</summary>
    FaultResult DoHandleMmFault(Vma.Vma vma, ulong addr, bool write)
    {
        MmStruct mm = vma.Mm;
        long pmdIndex = PmdIndex(addr);
        if (!PmdAlloc(mm, pmdIndex)) return FaultResult.Oom;
        if (vma.File != null) return ShmemHandleFault(vma, addr, write);
        PmdSlot? slot = mm.PageTables.Find(pmdIndex);
        ulong pmdOrderBit = 1UL << Geo.PmdOrder;

        if (slot == null || slot.Kind == PmdKind.None)
        {
            if (ThpVmaAllowableOrders(vma, TvaType.PageFault, pmdOrderBit) != 0)
            {
                var r = DoHugePmdAnonymousPage(vma, addr, write);
                if (r != FaultResult.Fallback) return r;
            }
        }
        else if (slot.Kind is PmdKind.Huge or PmdKind.HugeZero)
        {
            if (!write) { slot.Leaf |= Pte.Young; return FaultResult.Ok; }
            if (Pte.IsWrite(slot.Leaf)) { slot.Leaf |= Pte.Young | Pte.Dirty; return FaultResult.Ok; }
            // wp_huge_pmd(): a write to a userfaultfd write-protected PMD goes to userfaultfd
            if (UserfaultfdEntryWp(vma, slot.Leaf)) return HandleUserfault(vma, addr, Userfaultfd.UserfaultReason.WriteProtect);
            var r = DoHugePmdWpPage(vma, slot, addr);
            if (r != FaultResult.Fallback) return r;
        }
        return HandlePteFault(vma, addr, write);
    }

    /// <summary>models handle_pte_fault(): the PTE level, allocating the table first if needed.</summary>
    FaultResult HandlePteFault(Vma.Vma vma, ulong addr, bool write)
    {
        MmStruct mm = vma.Mm;
        PmdSlot slot = mm.PageTables.GetOrCreate(PmdIndex(addr));
        if (slot.Kind == PmdKind.None)
        {
            int table = AllocPageTable(mm);
            if (table < 0) return FaultResult.Oom;
            slot.Kind = PmdKind.Table;
            slot.TablePfn = table;
            slot.Ptes ??= NewPteTable();
        }
        int idx = PteIndex(addr);
        ulong pte = slot.Ptes![idx];
        if (Pte.IsNone(pte)) return DoAnonymousPage(vma, slot, addr, write);
        if (Pte.IsSwap(pte)) return DoSwapPage(vma, slot, addr, write);
        // ptep_set_access_flags(): on arm64 the whole of a folded block
        if (!write) { ContSetAccessBits(slot, idx, Pte.Young); return FaultResult.Ok; }
        if (Pte.IsWrite(pte)) { ContSetAccessBits(slot, idx, Pte.Young | Pte.Dirty); return FaultResult.Ok; }
        return DoWpPage(vma, slot, addr);
    }

    /// <summary>models do_anonymous_page(): zero page on read, a new folio of the chosen order on write.</summary>
    FaultResult DoAnonymousPage(Vma.Vma vma, PmdSlot slot, ulong addr, bool write)
    {
        if (!write)
        {
            if (UserfaultfdMissing(vma)) return HandleUserfault(vma, addr, Userfaultfd.UserfaultReason.Missing);
            slot.Ptes![PteIndex(addr)] = Pte.ZeroPage;
            SetPtesWork(1);
            return FaultResult.Ok;
        }
        if (!AnonVmaPrepare(vma)) return FaultResult.Oom;   // vmf_anon_prepare()
        // The kernel allocates the (order-0) folio first and frees it again: nothing to see of that.
        if (UserfaultfdMissing(vma)) return HandleUserfault(vma, addr, Userfaultfd.UserfaultReason.Missing);
        int head = AllocAnonFolio(vma, slot, addr, out int order);
        if (head < 0) return FaultResult.Oom;
        int nr = 1 << order;
        Work(Cost.KernelWork.PagesZeroed, nr);   // folio_zero_user()
        ulong start = addr & ~(((ulong)Geo.PageSize << order) - 1);
        if (!PteRangeNone(slot, addr, order))
        {
            FolioPut(head);   // populated meanwhile: free it and fault again, counting nothing
            return FaultResult.Ok;
        }
        Map.AddRef(head, nr - 1);   // one reference per PTE mapping
        vma.Mm.Rss[(int)RssMember.AnonPages] += nr;
        if (order > 0) Stats.Count(order, MthpStat.AnonFaultAlloc);
        FolioAddNewAnonRmap(head, vma, start, pmdMapped: false);
        ulong flags = Pte.Young | MkWriteDirty(vma);
        int first = PteIndex(start);
        for (int i = 0; i < nr; i++) slot.Ptes![first + i] = Pte.Make(head + i, flags);
        SetPtesWork(nr);
        ContSetPtes(slot, first, nr);
        return FaultResult.Ok;
    }

    static ulong MkWriteDirty(Vma.Vma vma) => (vma.Flags & VmFlags.Write) != 0 ? Pte.Write | Pte.Dirty : 0;

    /// <summary>
    /// models alloc_anon_folio(): the highest allowed order below PMD whose aligned block fits the VMA
    /// and is still entirely pte_none, falling back order by order, finally to order 0. A VMA
    /// registered with userfaultfd gets order 0: each page must fault on its own.
    /// </summary>
    int AllocAnonFolio(Vma.Vma vma, PmdSlot slot, ulong addr, out int order)
    {
        ulong orders = UserfaultfdArmed(vma) ? 0 : ThpVmaAllowableOrders(vma, TvaType.PageFault, (1UL << Geo.PmdOrder) - 1);
        return AllocAnonFolioOfOrders(vma, AnonFaultOrders(vma, slot, addr, orders), MthpStat.AnonFaultFallback, MthpStat.AnonFaultFallbackCharge, out order);
    }

    /// <summary>The orders alloc_anon_folio() tries at addr: of the allowed ones that suit the VMA there, the highest whose aligned block is all pte_none, and every order below it.</summary>
    ulong AnonFaultOrders(Vma.Vma vma, PmdSlot slot, ulong addr, ulong allowed)
    {
        ulong orders = allowed == 0 ? 0 : ThpVmaSuitableOrders(vma, addr, allowed);
        while (orders != 0 && !PteRangeNone(slot, addr, HighestOrder(orders))) orders &= ~(1UL << HighestOrder(orders));
        return orders;
    }

    /// <summary>
    /// The allocation loop of alloc_anon_folio() and alloc_swap_folio(): the highest order first; a
    /// failed allocation counts <paramref name="fallback"/>, a folio the cgroup cannot take counts
    /// <paramref name="fallbackCharge"/> too; order 0 (charged with GFP_KERNEL) last.
    /// </summary>
    int AllocAnonFolioOfOrders(Vma.Vma vma, ulong orders, MthpStat fallback, MthpStat fallbackCharge, out int order, Memcg.MemCgroup? target = null)
    {
        while (orders != 0)
        {
            order = HighestOrder(orders);
            int head = VmaAllocFolio(order, PageKind.Anon, ThpGfp(vma));
            if (head >= 0)
            {
                if (MemcgCharge(head, vma.Mm, ThpChargeGfp(vma), target)) return head;
                Stats.Count(order, fallbackCharge);
                FolioPut(head);
            }
            Stats.Count(order, fallback);
            orders &= ~(1UL << order);
        }
        order = 0;
        return AllocChargedPage(PageKind.Anon, vma.Mm, target);
    }

    /// <summary>models pte_range_none() over the naturally aligned block of the order around addr.</summary>
    bool PteRangeNone(PmdSlot slot, ulong addr, int order)
    {
        if (order == 0) return slot.Ptes![PteIndex(addr)] == 0;
        int nr = 1 << order;
        int first = PteIndex(addr) & ~(nr - 1);
        var ptes = slot.Ptes.AsSpan(first, nr);
        if (nr > 16) return ptes.IndexOfAnyExcept(0UL) < 0;
        // a few entries: or them together (the span search's set-up costs more than the entries)
        ulong any = 0;
        foreach (ulong pte in ptes) any |= pte;
        return any == 0;
    }

    /// <summary>models do_huge_pmd_anonymous_page()</summary>
    FaultResult DoHugePmdAnonymousPage(Vma.Vma vma, ulong addr, bool write)
    {
        ulong haddr = addr & ~((ulong)Geo.PmdSize - 1);
        if (!ThpVmaSuitableOrder(vma, haddr, Geo.PmdOrder)) return FaultResult.Fallback;
        if (!AnonVmaPrepare(vma)) return FaultResult.Oom;   // vmf_anon_prepare(), before a read takes the huge zero page too
        KhugepagedEnterVma(vma);
        MmStruct mm = vma.Mm;
        if (!write && Thp.UseZeroPage)
        {
            int table = AllocPageTable(mm);
            if (table < 0) return FaultResult.Oom;
            if (!GetHugeZeroFolio())
            {
                FreePageTable(mm, table);
                Stats.Count(VmEvent.ThpFaultFallback);
                return FaultResult.Fallback;
            }
            if (UserfaultfdMissing(vma))
            {
                FreePageTable(mm, table);
                return HandleUserfault(vma, addr, Userfaultfd.UserfaultReason.Missing);
            }
            PmdSlot zslot = mm.PageTables.GetOrCreate(PmdIndex(addr));
            zslot.Kind = PmdKind.HugeZero;
            zslot.Leaf = Pte.Make(_hugeZeroPfn, Pte.Young);
            zslot.TablePfn = table;
            SetPtesWork(1);
            return FaultResult.Ok;
        }
        int head = VmaAllocAnonFolioPmd(vma);
        if (head < 0) return FaultResult.Fallback;
        int deposit = AllocPageTable(mm);
        if (deposit < 0) { FolioPut(head); return FaultResult.Oom; }
        // The missing page goes to userfaultfd only now, with the THP allocated (and given back).
        if (UserfaultfdMissing(vma))
        {
            FolioPut(head);
            FreePageTable(mm, deposit);
            return HandleUserfault(vma, addr, Userfaultfd.UserfaultReason.Missing);
        }
        PmdSlot slot = mm.PageTables.GetOrCreate(PmdIndex(addr));
        slot.TablePfn = deposit;
        MapAnonFolioPmd(vma, slot, head, haddr);
        return FaultResult.Ok;
    }

    /// <summary>models vma_alloc_anon_folio_pmd(): counts the fallback when no PMD folio can be had.</summary>
    int VmaAllocAnonFolioPmd(Vma.Vma vma)
    {
        int head = VmaAllocFolio(Geo.PmdOrder, PageKind.Anon, ThpGfp(vma));
        if (head >= 0 && !MemcgCharge(head, vma.Mm, ThpChargeGfp(vma)))
        {
            FolioPut(head);
            head = -1;
            Stats.Count(VmEvent.ThpFaultFallbackCharge);
            Stats.Count(Geo.PmdOrder, MthpStat.AnonFaultFallbackCharge);
        }
        if (head < 0)
        {
            Stats.Count(VmEvent.ThpFaultFallback);
            Stats.Count(Geo.PmdOrder, MthpStat.AnonFaultFallback);
        }
        if (head >= 0) Work(Cost.KernelWork.PagesZeroed, Geo.PtrsPerPte);   // folio_zero_user(), once charged
        return head;
    }

    /// <summary>models map_anon_folio_pmd_pf(): install a new PMD THP and count the fault allocation.</summary>
    void MapAnonFolioPmd(Vma.Vma vma, PmdSlot slot, int head, ulong haddr)
    {
        FolioAddNewAnonRmap(head, vma, haddr, pmdMapped: true);
        slot.Kind = PmdKind.Huge;
        slot.Leaf = Pte.Make(head, Pte.Young | Pte.Dirty | ((vma.Flags & VmFlags.Write) != 0 ? Pte.Write : 0));
        SetPtesWork(1);
        vma.Mm.Rss[(int)RssMember.AnonPages] += 1L << Geo.PmdOrder;
        Stats.Count(VmEvent.ThpFaultAlloc);
        Stats.Count(Geo.PmdOrder, MthpStat.AnonFaultAlloc);
        DeferredSplitFolio(head, partiallyMapped: false);
    }
}
