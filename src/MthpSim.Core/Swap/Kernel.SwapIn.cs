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
    /// models do_swap_page(): the slot's folio from the swap cache (a minor fault), or on a
    /// synchronous-I/O device (zram) for an entry only this PTE holds a folio of the order
    /// alloc_swap_folio() picks read past the cache (<see cref="DoSwapPageDirect"/>), or else the
    /// page and its neighbours read into the swap cache (<see cref="SwapinReadahead"/>); a read is a
    /// major fault. A large folio from the cache is mapped whole when the PTEs around the fault are
    /// its slots' entries in order, else only the faulting page. A page from the swap cache is mapped
    /// writable only when this mapping is its exclusive owner; a write that cannot have it so goes
    /// on as a write fault (COW).
    /// </summary>
    FaultResult DoSwapPage(Vma.Vma vma, PmdSlot slot, ulong addr, bool write)
    {
        var si = SwapInfo!;
        var ptes = slot.Ptes!;
        int idx = PteIndex(addr);
        ulong orig = ptes[idx];
        int off = Pte.SwapOffset(orig);
        int folio = SwapCacheLookup(off, vma, addr);
        if (folio < 0)
        {
            if (si.Synchronous && si.Count(off) == 1) return DoSwapPageDirect(vma, slot, addr, write);
            folio = SwapinReadahead(vma, slot, addr, off);
            if (folio < 0) return FaultResult.Oom;
            Stats.Count(VmEvent.PgMajFault);
            _faultMajor = true;
        }
        if (!AnonVmaPrepare(vma)) return FaultResult.Oom;
        int page = folio + (off - SwapCache!.OffsetOf(folio));
        int nrPages = 1, first = idx;
        if (Map.Order(folio) > 0)
        {
            int nr = 1 << Map.Order(folio);
            int pageIdx = page - folio;
            ulong folioStart = addr - ((ulong)pageIdx << PageShift);
            ulong pmdStart = addr & ~((ulong)Geo.PmdSize - 1);
            if (folioStart >= Math.Max(pmdStart, vma.Start) && folioStart + ((ulong)nr << PageShift) <= Math.Min(pmdStart + (ulong)Geo.PmdSize, vma.End)
                && SwapPteBatch(ptes, idx - pageIdx, nr, orig, -pageIdx))
            {
                nrPages = nr;
                first = idx - pageIdx;
                page = folio;
                off -= pageIdx;
            }
        }
        bool exclusive = Pte.IsSwpExclusive(orig);
        for (int i = 0; i < nrPages; i++) si.Put(off + i);   // swap_free_nr(): these entries' references; the cache still holds the slots
        if (ShouldTryToFreeSwap(folio, vma, write)) FolioFreeSwap(folio);
        vma.Mm.Rss[(int)RssMember.AnonPages] += nrPages;
        vma.Mm.Rss[(int)RssMember.SwapEnts] -= nrPages;
        // The swap entry's userfaultfd write protection passes to the PTE, which then stays read-only.
        ulong flags = Pte.Young | (orig & Pte.UffdWp);
        if (exclusive || Map.Refcount(folio) == 1)
        {
            if ((vma.Flags & VmFlags.Write) != 0 && !UserfaultfdEntryWp(vma, flags))
            {
                flags |= Pte.Write;
                if (write) { flags |= Pte.Dirty; write = false; }
            }
            exclusive = true;
        }
        // The lookup's reference is the first mapping's now.
        Map.AddRef(folio, nrPages - 1);
        SetSmallAnonRmap(folio, vma, addr, exclusive);   // a folio read into the swap cache becomes anon when first mapped
        FolioAddAnonRmapPtes(folio, page, nrPages, vma.Mm);
        for (int i = 0; i < nrPages; i++)
        {
            if (exclusive) Map.Set(page + i, PageFlags.AnonExclusive);
            ptes[first + i] = Pte.Make(page + i, flags);
        }
        SetPtesWork(nrPages);
        ContSetPtes(slot, first, nrPages);
        return write ? DoWpPage(vma, slot, addr) : FaultResult.Ok;
    }

    /// <summary>
    /// models swap_pte_batch() from a PTE <paramref name="shift"/> slots before the fault's: the
    /// <paramref name="nr"/> PTEs from <paramref name="first"/> are the swap entries of consecutive
    /// slots with the fault entry's flags, recorded for one cgroup.
    /// </summary>
    bool SwapPteBatch(ulong[] ptes, int first, int nr, ulong orig, int shift)
    {
        if (first < 0 || first + nr > ptes.Length) return false;
        int baseOff = Pte.SwapOffset(orig) + shift;
        if (baseOff <= 0) return false;
        ulong flags = orig & ~(~0UL << 12);
        ushort memcg = SwapInfo!.MemcgId(baseOff);
        for (int i = 0; i < nr; i++)
        {
            if (ptes[first + i] != (Pte.MakeSwap(baseOff + i, false) | flags)) return false;
            if (SwapInfo.MemcgId(baseOff + i) != memcg) return false;
        }
        return true;
    }

    /// <summary>
    /// models should_try_to_free_swap(): with swap more than half full, or for a write fault when the
    /// cache and this fault hold the only references, try to drop the folio from the swap cache.
    /// </summary>
    bool ShouldTryToFreeSwap(int head, Vma.Vma vma, bool write)
    {
        if (!InSwapCache(head)) return false;
        if (SwapInfo!.Full) return true;   // mem_cgroup_swap_full(); the model has no mlock
        return write && Map.Refcount(head) == 1 + (1 << Map.Order(head));
    }

    /// <summary>
    /// do_swap_page() past the swap cache (SWP_SYNCHRONOUS_IO, swap count 1): a folio of the order
    /// alloc_swap_folio() picks is read, the slots are freed and the folio mapped exclusive (writable
    /// when the VMA is). A major fault.
    /// </summary>
    FaultResult DoSwapPageDirect(Vma.Vma vma, PmdSlot slot, ulong addr, bool write)
    {
        var si = SwapInfo!;
        ulong orig = slot.Ptes![PteIndex(addr)];
        int off = Pte.SwapOffset(orig);
        if (!AnonVmaPrepare(vma)) return FaultResult.Oom;
        int head = AllocSwapFolio(vma, slot, addr, orig, out int order);
        if (head < 0) return FaultResult.Oom;
        int nr = 1 << order;
        ulong start = addr & ~(((ulong)Geo.PageSize << order) - 1);
        int first = PteIndex(start);
        int baseOff = off - (PteIndex(addr) - first);
        WorkingsetRefault(head, baseOff);
        SwapReadFolio(si, head, baseOff, order);
        Stats.Count(VmEvent.PgMajFault);
        _faultMajor = true;
        for (int i = 0; i < nr; i++) si.Put(baseOff + i);   // swap_free_nr(), then swapcache_clear()
        vma.Mm.Rss[(int)RssMember.AnonPages] += nr;
        vma.Mm.Rss[(int)RssMember.SwapEnts] -= nr;
        Map.AddRef(head, nr - 1);
        FolioAddNewAnonRmap(head, vma, start, pmdMapped: false);
        // A fresh folio nobody else can see is exclusive: writable at once where the VMA allows it.
        // (Not when userfaultfd write-protected it: then a write goes on as a write fault.)
        ulong flags = Pte.Young | (orig & Pte.UffdWp);
        bool wp = UserfaultfdEntryWp(vma, flags);
        if ((vma.Flags & VmFlags.Write) != 0 && !wp) flags |= Pte.Write | (write ? Pte.Dirty : 0);
        for (int i = 0; i < nr; i++) slot.Ptes[first + i] = Pte.Make(head + i, flags);
        SetPtesWork(nr);
        ContSetPtes(slot, first, nr);
        return wp && write ? DoWpPage(vma, slot, addr) : FaultResult.Ok;
    }

    /// <summary>
    /// models alloc_swap_folio(): the highest order below PMD the VMA allows at a fault whose aligned
    /// range sits at the same alignment in swap as in memory and is all swap entries with consecutive
    /// offsets, the same flags and the same zeromap state; an allocation that fails counts
    /// swpin_fallback and tries the next order; order 0 last.
    /// </summary>
    int AllocSwapFolio(Vma.Vma vma, PmdSlot slot, ulong addr, ulong orig, out int order)
    {
        // A VMA registered with userfaultfd swaps in at order 0, one page per fault.
        ulong orders = UserfaultfdArmed(vma) ? 0 : ThpVmaAllowableOrders(vma, TvaType.PageFault, (1UL << Geo.PmdOrder) - 1);
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
        return AllocAnonFolioOfOrders(vma, orders, MthpStat.SwpinFallback, MthpStat.SwpinFallbackCharge, out order, SwapMemcg(off));
    }

    /// <summary>models can_swapin_thp(): the aligned range of the order is one run of swap entries like the faulting one, none of them in the swap cache.</summary>
    bool CanSwapinThp(PmdSlot slot, ulong addr, ulong orig, int order)
    {
        int nr = 1 << order;
        int first = PteIndex(addr) & ~(nr - 1);
        int baseOff = Pte.SwapOffset(orig) - (PteIndex(addr) - first);
        if (!SwapPteBatch(slot.Ptes!, first, nr, orig, first - PteIndex(addr))) return false;
        var si = SwapInfo!;
        bool zero = si.IsZero(baseOff);
        for (int i = 0; i < nr; i++)
        {
            if (si.IsZero(baseOff + i) != zero) return false;   // swap_zeromap_batch()
            if (si.CachedFolio(baseOff + i) >= 0) return false;   // non_swapcache_batch()
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
