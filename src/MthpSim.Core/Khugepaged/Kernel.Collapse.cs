using MthpSim.Core.Folio;
using MthpSim.Core.Khugepaged;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/khugepaged.c: scanning one PMD range and collapsing it into a PMD-mapped THP (anonymous memory).
public sealed partial class Kernel
{
    readonly List<KhugepagedTraceEvent> _trace = new();

    /// <summary>Every PMD range scanned so far (khugepaged and MADV_COLLAPSE), oldest first.</summary>
    public IReadOnlyList<KhugepagedTraceEvent> KhugepagedTrace => _trace;

    /// <summary>
    /// models find_pmd_or_thp_or_none(): no page table below the PUD → SCAN_PMD_NULL, an empty PMD →
    /// SCAN_PMD_NONE, a PMD mapping (THP or huge zero page) → SCAN_PMD_MAPPED.
    /// </summary>
    ScanResult FindPmdOrThpOrNone(MmStruct mm, ulong address, out PmdSlot? slot)
    {
        long index = PmdIndex(address);
        slot = mm.PageTables.Find(index);
        if (slot == null || slot.Kind == PmdKind.None)
        {
            // mm_find_pmd() fails when the PUD above is not populated: no PMD table at all there.
            long perPud = 1L << (Geo.PageShift - 3);
            long first = index & ~(perPud - 1);
            return mm.PageTables.AnyInRange(first, first + perPud) ? ScanResult.PmdNone : ScanResult.PmdNull;
        }
        return slot.Kind is PmdKind.Huge or PmdKind.HugeZero ? ScanResult.PmdMapped : ScanResult.Succeed;
    }

    /// <summary>
    /// models hpage_collapse_scan_pmd(): checks every PTE of a PMD range (none or zero page, shared,
    /// extra references, young) and collapses it when it qualifies. <paramref name="mmapLocked"/>
    /// becomes false once a collapse was attempted (collapse_huge_page() drops mmap_lock).
    /// </summary>
    internal ScanResult HpageCollapseScanPmd(Vma.Vma vma, ulong address, CollapseControl cc, out bool mmapLocked)
    {
        mmapLocked = true;
        MmStruct mm = vma.Mm;
        int referenced = 0, noneOrZero = 0, shared = 0, unmapped = 0;
        var result = FindPmdOrThpOrNone(mm, address, out var slot);
        if (result == ScanResult.Succeed)
        {
            result = ScanPtes(slot!, cc, ref referenced, ref noneOrZero, ref shared);
            if (result == ScanResult.Succeed)
            {
                result = CollapseHugePage(vma, slot!, address);
                mmapLocked = false;
            }
        }
        _trace.Add(new KhugepagedTraceEvent(NowMs, mm.Name, address, result, referenced, noneOrZero, unmapped, shared, cc.IsKhugepaged));
        return result;
    }

    /// <summary>The per-PTE loop of hpage_collapse_scan_pmd() (the model has no swap entries yet).</summary>
    ScanResult ScanPtes(PmdSlot slot, CollapseControl cc, ref int referenced, ref int noneOrZero, ref int shared)
    {
        var ptes = slot.Ptes!;
        for (int i = 0; i < ptes.Length; i++)
        {
            ulong pte = ptes[i];
            if (Pte.IsNone(pte) || Pte.IsZero(pte))
            {
                noneOrZero++;
                if (!cc.IsKhugepaged || noneOrZero <= Thp.MaxPtesNone) continue;
                Stats.Count(VmEvent.ThpScanExceedNonePte);
                return ScanResult.ExceedNonePte;
            }
            int pfn = Pte.Pfn(pte);
            int head = Map.HeadOf(pfn);
            if (Map.Kind(head) != PageKind.Anon) return ScanResult.PageAnon;
            // A page counts as shared when any part of its folio may be mapped by another mm.
            if (FolioMaybeMappedShared(head))
            {
                shared++;
                if (cc.IsKhugepaged && shared > Thp.MaxPtesShared)
                {
                    Stats.Count(VmEvent.ThpScanExceedSharePte);
                    return ScanResult.ExceedSharedPte;
                }
            }
            // folio_expected_ref_count(): only the mappings may hold references (a pin makes it fail).
            if (Map.Refcount(head) != Map.FolioMapcount(head)) return ScanResult.PageCount;
            if (cc.IsKhugepaged && Pte.IsYoung(pte)) referenced++;
        }
        return cc.IsKhugepaged && referenced == 0 ? ScanResult.LackReferencedPage : ScanResult.Succeed;
    }

    /// <summary>
    /// models collapse_huge_page(): allocate a PMD folio (thp_collapse_alloc[_failed]), copy every page
    /// (none and zero-page PTEs become zeroes), unmap the old pages (their folios freed once nothing
    /// else maps them), and map the new folio by PMD with the old page table deposited under it.
    /// </summary>
    ScanResult CollapseHugePage(Vma.Vma vma, PmdSlot slot, ulong address)
    {
        MmStruct mm = vma.Mm;
        int folio = AllocFolio(Geo.PmdOrder, PageKind.Anon);   // alloc_charge_folio()
        if (folio < 0)
        {
            Stats.Count(VmEvent.ThpCollapseAllocFailed);
            return ScanResult.AllocHugePageFail;
        }
        Stats.Count(VmEvent.ThpCollapseAlloc);
        var ptes = slot.Ptes!;
        int nr = ptes.Length;
        // __collapse_huge_page_copy()
        for (int i = 0; i < nr; i++)
            if (Pte.IsNormal(ptes[i])) Map.SetContent(folio + i, Map.Content(Pte.Pfn(ptes[i])));
        // __collapse_huge_page_copy_succeeded(): none/zero entries count into RSS now; mapped pages
        // leave in batches per folio, their RSS taken over by the new folio.
        int i2 = 0;
        while (i2 < nr)
        {
            ulong pte = ptes[i2];
            if (!Pte.IsNormal(pte))
            {
                mm.Rss[(int)RssMember.AnonPages]++;
                ptes[i2++] = 0;
                continue;
            }
            int pfn = Pte.Pfn(pte);
            int head = Map.HeadOf(pfn);
            int end = head + (1 << Map.Order(head));
            int run = 1;
            while (i2 + run < nr && pfn + run < end && Pte.IsNormal(ptes[i2 + run]) && Pte.Pfn(ptes[i2 + run]) == pfn + run) run++;
            Array.Clear(ptes, i2, run);
            FolioRemoveRmapPtes(head, pfn, run, mm);
            FolioPut(head, run);
            i2 += run;
        }
        // The PTE table is deposited under the new PMD (pgtable_trans_huge_deposit()).
        FolioAddNewAnonRmap(folio, vma, address, pmdMapped: true);
        slot.Kind = PmdKind.Huge;
        slot.Leaf = Pte.Make(folio, Pte.Young | Pte.Dirty | ((vma.Flags & VmFlags.Write) != 0 ? Pte.Write : 0));
        DeferredSplitFolio(folio, partiallyMapped: false);
        return ScanResult.Succeed;
    }

    /// <summary>models madvise_collapse_errno()</summary>
    static long MadviseCollapseErrno(ScanResult r) => r switch
    {
        ScanResult.AllocHugePageFail => -Errno.ENOMEM,
        ScanResult.CgroupChargeFail or ScanResult.ExceedNonePte => -Errno.EBUSY,
        ScanResult.PageCount or ScanResult.PageLock or ScanResult.PageLru or ScanResult.DelPageLru or ScanResult.PageFilled => -Errno.EAGAIN,
        _ => -Errno.EINVAL,
    };

    /// <summary>
    /// models madvise_collapse() for one VMA: every PMD-aligned block inside [start, end) is collapsed
    /// now, ignoring the sysfs settings, max_ptes_* and the young-page rule. Some failures let it go on
    /// to the next block, others stop it; 0 only if every block ended PMD-mapped.
    /// </summary>
    long MadviseCollapse(Vma.Vma vma, ulong start, ulong end)
    {
        if (ThpVmaAllowableOrders(vma, TvaType.ForcedCollapse, 1UL << Geo.PmdOrder) == 0) return -Errno.EINVAL;
        ulong pmdSize = (ulong)Geo.PmdSize;
        ulong hstart = (start + pmdSize - 1) & ~(pmdSize - 1), hend = end & ~(pmdSize - 1);
        int thps = 0;
        var lastFail = ScanResult.Fail;
        var cc = new CollapseControl(IsKhugepaged: false);
        for (ulong addr = hstart; addr < hend; addr += pmdSize)
        {
            var result = HpageCollapseScanPmd(vma, addr, cc, out _);
            if (result is ScanResult.Succeed or ScanResult.PmdMapped) { thps++; continue; }
            lastFail = result;
            // The results after which the next block is still tried.
            if (result is not (ScanResult.PmdNull or ScanResult.PteNonPresent or ScanResult.PteUffdWp or ScanResult.LackReferencedPage
                or ScanResult.PageNull or ScanResult.PageCount or ScanResult.PageLock or ScanResult.PageCompound
                or ScanResult.PageLru or ScanResult.DelPageLru))
                break;
        }
        // Unsigned, as in the kernel: for a range inside one PMD hstart > hend, the count wraps, the
        // comparison fails and the result is -EINVAL; only hstart == hend gives 0 (checked live).
        ulong blocks = unchecked(hend - hstart) >> (Geo.PageShift + Geo.PmdOrder);
        return (ulong)thps == blocks ? 0 : MadviseCollapseErrno(lastFail);
    }
}
