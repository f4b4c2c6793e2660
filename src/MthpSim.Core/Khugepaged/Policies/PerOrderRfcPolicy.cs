using System.Numerics;

namespace MthpSim.Core.Khugepaged.Policies;

/// <summary>
/// The competing per-order design (Dev Jain, "[RFC PATCH 00/12] khugepaged: Asynchronous mTHP
/// collapse", 2024-12-16), discussed in the seed thread: khugepaged runs when any anonymous size is
/// enabled; within each PMD window every aligned range is scanned again for each order tried, with
/// max_ptes_none/shared/swap shifted right by (PMD order - order); highest enabled order first, the
/// next lower one at the same offset after a failure. A range holding a folio of the order or larger
/// is skipped to that folio's end. Modelled with the walk fixes asked for in the thread (Dev Jain
/// 2025-01-12: go past a range that failed at every order; Ryan Roberts' review: the next order
/// never exceeds the new offset's alignment). thp_collapse_alloc and the thp_scan_exceed_* events count
/// every order, in the scan and in isolation. Swap entries within the scaled max_ptes_swap are
/// swapped in at every order, and a range with any needs half its pages young (the young-page rule
/// scaled to the range). Every collapsed folio goes on the deferred split queue (its v2 stopped
/// queueing mTHPs). Its patch 02 adds anon_collapse_alloc{,_failed} to each anonymous size's stats,
/// counted below the PMD size.
/// </summary>
/// <remarks>
/// <c>asPosted</c> (<c>mthp-per-order-rfc-as-posted</c>): the walk as the patch was posted, with
/// next_order() taking each failed order out of the window's order mask for good (Ryan Roberts:
/// "next_order() is destructive"), so an order that failed once is not tried again at a later
/// offset, and the window ends when the mask is empty. After a success the order is the new
/// offset's alignment, or the highest order left in the mask when that one is not in it (the slip
/// Ryan Roberts pointed out, which can pick an order above the alignment; for a PMD-aligned window
/// every order left is at most the current one, so it never does).
/// </remarks>
public sealed class PerOrderRfcPolicy(bool asPosted = false) : ICollapsePolicy
{
    public string Name => asPosted ? "mthp-per-order-rfc-as-posted" : "mthp-per-order-rfc";
    public bool HasCollapseStats => false;
    public bool VmEventsAtEveryOrder => true;
    public bool SwapInBelowPmdSize => true;
    public bool QueuesCollapsedBelowPmdSize => true;
    public bool HasAnonCollapseAllocStats => true;

    public bool KhugepagedEnabled(Kernel k) => k.AnyAnonOrderEnabled(k.Geo.AnonOrders) || k.ShmemHpagePmdEnabled();

    public ulong KhugepagedOrders(Kernel k, Vma.Vma vma) => k.ThpVmaAllowableOrders(vma, TvaType.Khugepaged, k.Geo.AnonOrders);

    /// <summary>Tunables scaled to the order: value >> (PMD order - order).</summary>
    static CollapseLimits Scaled(PmdWindow w, int order)
    {
        int shift = w.PmdOrder - order;
        var t = w.Settings;
        return new CollapseLimits((int)t.MaxPtesNone >> shift, (int)t.MaxPtesShared >> shift, (int)t.MaxPtesSwap >> shift,
            SkipIfLargerFolio: order != w.PmdOrder);
    }

    static int Largest(ulong orders) => 63 - BitOperations.LeadingZeroCount(orders);

    public ScanResult CollapseWindow(PmdWindow w)
    {
        ulong enabled = w.Orders;
        if (enabled == 0) return ScanResult.Fail;
        if (asPosted) return CollapseWindowAsPosted(w, enabled);
        int minOrder = BitOperations.TrailingZeroCount(enabled);
        bool any = false;
        var last = ScanResult.Fail;
        int off = 0, o = Largest(enabled);
        while (off < w.Ptes)
        {
            var r = TryRange(w, off, o, out int next);
            if (r == ScanResult.PteMappedHugepage)
            {
                off = next;
                if (!Pick(ref off, ref o)) break;
                continue;
            }
            last = r;
            if (r == ScanResult.Succeed)
            {
                any = true;
                off = next;
                if (!Pick(ref off, ref o)) break;
                continue;
            }
            ulong lower = enabled & ((1UL << o) - 1);
            if (lower != 0) { o = Largest(lower); continue; }
            off = next;   // every order failed here: go past the range
            if (!Pick(ref off, ref o)) break;
        }
        return any ? ScanResult.Succeed : last;

        // The largest enabled order that the offset's alignment allows.
        bool Pick(ref int offset, ref int order)
        {
            while (offset < w.Ptes)
            {
                int align = offset == 0 ? w.PmdOrder : BitOperations.TrailingZeroCount(offset);
                ulong fit = enabled & ((2UL << Math.Min(align, w.PmdOrder)) - 1);
                if (fit != 0) { order = Largest(fit); return true; }
                offset = (offset + (1 << minOrder)) & ~((1 << minOrder) - 1);
            }
            return false;
        }
    }

    /// <summary>
    /// One range of a walk: scanned under its order's scaled limits, collapsed when it qualifies.
    /// <paramref name="next"/> is the offset after it, or after the folio of this order or larger
    /// found there (SCAN_PTE_MAPPED_HUGEPAGE: its end, naturally aligned).
    /// </summary>
    static ScanResult TryRange(PmdWindow w, int off, int o, out int next)
    {
        w.ConsiderRange();
        int nr = 1 << o;
        // The RFC counts the thp_scan_exceed_* events at every order it scans.
        var s = w.Scan(off, nr, Scaled(w, o), countVmEvents: true, stopAtFolioOrder: o < w.PmdOrder ? o : -1);
        if (s.Result == ScanResult.PteMappedHugepage)
        {
            int folioPages = 1 << s.LargestFolioOrder;
            next = (off + folioPages) & ~(folioPages - 1);
            return s.Result;
        }
        next = off + nr;
        if (s.Result != ScanResult.Succeed) return s.Result;
        return s.Referenced == 0 || (s.Unmapped > 0 && s.Referenced < nr / 2) ? ScanResult.LackReferencedPage : w.Collapse(off, o, Scaled(w, o));
    }

    /// <summary>The posted walk (hpage_collapse_scan_ptes() of the RFC): a destructive order mask, and the window given up when it is empty.</summary>
    ScanResult CollapseWindowAsPosted(PmdWindow w, ulong mask)
    {
        bool any = false;
        var last = ScanResult.Fail;
        int off = 0, o = Largest(mask);
        while (true)
        {
            var r = TryRange(w, off, o, out int next);
            if (r == ScanResult.PteMappedHugepage)
            {
                off = next;   // patch 10: past the folio, then the order the new offset allows
                if (off >= w.Ptes || !NextAfterSuccess(ref o)) break;
                continue;
            }
            last = r;
            if (r == ScanResult.Succeed)
            {
                any = true;
                off = next;
                if (off >= w.Ptes || !NextAfterSuccess(ref o)) break;   // "Immediately exit on exhaustion of range"
                continue;
            }
            mask &= ~(1UL << o);   // next_order(): the failed order leaves the mask for good
            if (mask == 0) break;
            o = Largest(mask);
            if (o < 2) break;
        }
        return any ? ScanResult.Succeed : last;

        // The new offset's alignment if that order is in the mask, else the highest order left in it.
        bool NextAfterSuccess(ref int order)
        {
            order = BitOperations.TrailingZeroCount(off);
            if ((mask & (1UL << order)) == 0)
            {
                if (mask == 0) return false;
                order = Largest(mask);
            }
            // A range that would run past the window's page table: the posted code has no such case for a PMD-aligned window.
            return order >= 2 && off + (1 << order) <= w.Ptes;
        }
    }
}
