using MthpSim.Core.Fault;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Swap;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/memory.c: do_swap_page() and alloc_swap_folio(); mm/page_io.c: swap_read_folio().
public sealed partial class Kernel
{
    /// <summary>Set by a fault that read from swap (VM_FAULT_MAJOR), for mm_account_fault().</summary>
    bool _faultMajor;

    /// <summary>
    /// models do_swap_page() on a synchronous-I/O device (zram) for an entry only this PTE holds: the
    /// swap cache is skipped, a folio of the order alloc_swap_folio() picks is read, the slots are
    /// freed and the folio mapped exclusive (writable when the VMA is). A major fault.
    /// </summary>
    FaultResult DoSwapPage(Vma.Vma vma, PmdSlot slot, ulong addr, bool write)
    {
        var si = SwapInfo!;
        ulong orig = slot.Ptes![PteIndex(addr)];
        int off = Pte.SwapOffset(orig);
        if (si.Count(off) != 1)
            throw new NotSupportedException("swap-in of an entry several processes share (the swap cache and its read-ahead) is not modelled yet");
        AnonVmaPrepare(vma);
        int head = AllocSwapFolio(vma, slot, addr, orig, out int order);
        if (head < 0) return FaultResult.Oom;
        int nr = 1 << order;
        ulong start = addr & ~(((ulong)Geo.PageSize << order) - 1);
        int first = PteIndex(start);
        int baseOff = off - (PteIndex(addr) - first);
        SwapReadFolio(si, head, baseOff, order);
        Stats.Count(VmEvent.PgMajFault);
        _faultMajor = true;
        for (int i = 0; i < nr; i++) si.Put(baseOff + i);   // swap_free_nr(), then swapcache_clear()
        vma.Mm.Rss[(int)RssMember.AnonPages] += nr;
        vma.Mm.Rss[(int)RssMember.SwapEnts] -= nr;
        Map.AddRef(head, nr - 1);
        FolioAddNewAnonRmap(head, vma, start, pmdMapped: false);
        // A fresh folio nobody else can see is exclusive: writable at once where the VMA allows it.
        ulong flags = Pte.Young;
        if ((vma.Flags & VmFlags.Write) != 0) flags |= Pte.Write | (write ? Pte.Dirty : 0);
        for (int i = 0; i < nr; i++) slot.Ptes[first + i] = Pte.Make(head + i, flags);
        return FaultResult.Ok;
    }

    /// <summary>
    /// models alloc_swap_folio(): the highest order below PMD the VMA allows at a fault whose aligned
    /// range sits at the same alignment in swap as in memory and is all swap entries with consecutive
    /// offsets, the same flags and the same zeromap state; an allocation that fails counts
    /// swpin_fallback and tries the next order; order 0 last.
    /// </summary>
    int AllocSwapFolio(Vma.Vma vma, PmdSlot slot, ulong addr, ulong orig, out int order)
    {
        ulong orders = ThpVmaAllowableOrders(vma, TvaType.PageFault, (1UL << Geo.PmdOrder) - 1);
        orders = ThpVmaSuitableOrders(vma, addr, orders);
        long pageIndex = (long)(addr >> PageShift);
        int off = Pte.SwapOffset(orig);
        // thp_swap_suitable_orders(): drop the orders above the first whose alignment matches
        while (orders != 0)
        {
            int o = HighestOrder(orders);
            if (pageIndex % (1L << o) == off % (1 << o)) break;
            orders &= ~(1UL << o);
        }
        while (orders != 0)
        {
            int o = HighestOrder(orders);
            if (CanSwapinThp(slot, addr, orig, o)) break;
            orders &= ~(1UL << o);
        }
        return AllocAnonFolioOfOrders(vma, orders, MthpStat.SwpinFallback, MthpStat.SwpinFallbackCharge, out order);
    }

    /// <summary>models can_swapin_thp(): the aligned range of the order is one run of swap entries like the faulting one.</summary>
    bool CanSwapinThp(PmdSlot slot, ulong addr, ulong orig, int order)
    {
        int nr = 1 << order;
        int first = PteIndex(addr) & ~(nr - 1);
        var ptes = slot.Ptes!;
        int baseOff = Pte.SwapOffset(orig) - (PteIndex(addr) - first);
        if (baseOff <= 0) return false;
        ulong flags = orig & ~(~0UL << 12);
        var si = SwapInfo!;
        bool zero = si.IsZero(baseOff);
        for (int i = 0; i < nr; i++)
        {
            ulong pte = ptes[first + i];
            if (pte != (Pte.MakeSwap(baseOff + i, false) | flags)) return false;   // swap_pte_batch()
            if (si.IsZero(baseOff + i) != zero) return false;   // swap_zeromap_batch()
        }
        return true;
    }

    /// <summary>
    /// models swap_read_folio(): slots of the zeromap are zero-filled without I/O (swpin_zero), the
    /// rest read from the device (pswpin, and swpin per size).
    /// </summary>
    void SwapReadFolio(SwapDevice si, int head, int baseOff, int order)
    {
        int nr = 1 << order;
        for (int i = 0; i < nr; i++) Map.SetContent(head + i, si.Content(baseOff + i));
        if (si.IsZero(baseOff))
        {
            Stats.Count(VmEvent.SwpinZero, nr);
            return;
        }
        if (order > 0) Stats.Count(order, MthpStat.Swpin);
        Stats.Count(VmEvent.Pswpin, nr);
    }
}
