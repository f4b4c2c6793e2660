using MthpSim.Core.Folio;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// mm/huge_memory.c: the deferred split queue. One list holds every memcg's queue (one node); a
// group's queue is the folios on it charged to the group (NextQueued()).
public sealed partial class Kernel
{
    int _deferredHead, _deferredTail;
    long _deferredLen;

    /// <summary>Length of the deferred split queue (split_queue_len).</summary>
    public long DeferredSplitQueueLength => _deferredLen;

    /// <summary>Folios on the deferred split queue, oldest first.</summary>
    public IEnumerable<int> DeferredSplitQueue()
    {
        for (int h = _deferredHead; h >= 0; h = Map.Large(h).DeferredNext) yield return h;
    }

    /// <summary>
    /// models deferred_split_folio(): queue a large folio that lost some mappings (partially mapped),
    /// or a new PMD THP as an underused candidate when shrink_underused is on.
    /// </summary>
    internal void DeferredSplitFolio(int head, bool partiallyMapped)
    {
        int order = Map.Order(head);
        if (order <= 1) return;
        if (InSwapCache(head)) return;   // reclaim is already taking it
        if (!partiallyMapped && !Thp.ShrinkUnderused) return;
        if (partiallyMapped && !Map.Test(head, PageFlags.PartiallyMapped))
        {
            Map.Set(head, PageFlags.PartiallyMapped);
            if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpDeferredSplitPage);
            Stats.Count(order, MthpStat.SplitDeferred);
            Stats.Count(order, MthpStat.NrAnonPartiallyMapped);
        }
        DeferredListAddTail(head);
    }

    /// <summary>models __folio_unqueue_deferred_split(): off the queue, and no longer counted as partially mapped.</summary>
    internal void DeferredUnqueue(int head)
    {
        DeferredListDel(head);
        ClearPartiallyMapped(head);
    }

    /// <summary>Takes the folio off the queue (list_del_init), keeping its partially-mapped flag.</summary>
    internal void DeferredListDel(int head)
    {
        if (!Map.Test(head, PageFlags.DeferredQueued)) return;
        var lf = Map.Large(head);
        if (lf.DeferredPrev >= 0) SetDeferredNext(lf.DeferredPrev, lf.DeferredNext); else _deferredHead = lf.DeferredNext;
        if (lf.DeferredNext >= 0) SetDeferredPrev(lf.DeferredNext, lf.DeferredPrev); else _deferredTail = lf.DeferredPrev;
        lf.DeferredPrev = lf.DeferredNext = -1;
        Map.SetLarge(head, lf);
        Map.Clear(head, PageFlags.DeferredQueued);
        _deferredLen--;
    }

    /// <summary>A migrated folio takes its old copy's place on the queue (its record, links included, moved with it).</summary>
    internal void DeferredReplace(int old, int @new)
    {
        if (!Map.Test(@new, PageFlags.DeferredQueued)) return;
        var lf = Map.Large(@new);
        if (lf.DeferredPrev >= 0) SetDeferredNext(lf.DeferredPrev, @new); else _deferredHead = @new;
        if (lf.DeferredNext >= 0) SetDeferredPrev(lf.DeferredNext, @new); else _deferredTail = @new;
    }

    /// <summary>Puts a folio back at the tail of the queue without counting anything (the shrinker's "add back").</summary>
    void DeferredListAddTail(int head)
    {
        if (Map.Test(head, PageFlags.DeferredQueued)) return;
        Map.Set(head, PageFlags.DeferredQueued);
        var lf = Map.Large(head);
        lf.DeferredPrev = _deferredTail;
        lf.DeferredNext = -1;
        Map.SetLarge(head, lf);
        if (_deferredTail >= 0) SetDeferredNext(_deferredTail, head); else _deferredHead = head;
        _deferredTail = head;
        _deferredLen++;
    }

    void SetDeferredNext(int head, int next)
    {
        var lf = Map.Large(head);
        lf.DeferredNext = next;
        Map.SetLarge(head, lf);
    }

    void SetDeferredPrev(int head, int prev)
    {
        var lf = Map.Large(head);
        lf.DeferredPrev = prev;
        Map.SetLarge(head, lf);
    }

    void ClearPartiallyMapped(int head)
    {
        if (!Map.Test(head, PageFlags.PartiallyMapped)) return;
        Map.Clear(head, PageFlags.PartiallyMapped);
        Stats.Count(Map.Order(head), MthpStat.NrAnonPartiallyMapped, -1);
    }
}
