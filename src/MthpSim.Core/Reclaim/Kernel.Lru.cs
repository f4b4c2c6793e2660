using MthpSim.Core.Folio;
using MthpSim.Core.Reclaim;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// mm/swap.c: folios onto and between the LRU lists. The model keeps the lists only with a swap
// device: without one the anon lists are never aged or scanned (can_age_anon_pages(),
// get_scan_count()), and lazily freed folios are found through the page tables instead.
public sealed partial class Kernel
{
    /// <summary>folio->lru of every frame; null without swap.</summary>
    internal FolioLru? Lru { get; }
    /// <summary>folio->mapping and ->index of order-0 anon folios, for the rmap walks of reclaim; null without swap.</summary>
    internal SmallAnonRmap? SmallRmap { get; }
    /// <summary>The root memory cgroup's lruvec: folios charged to no cgroup, and the parent of every cgroup's.</summary>
    internal Lruvec? RootLruvec { get; }

    /// <summary>/proc/vmstat lines that exist in the model only with the LRU lists (a swap device).</summary>
    public static readonly string[] LruVmstatNames =
    [
        "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
        "pgactivate", "pgdeactivate", "pglazyfree", "pgrefill", "pgsteal_kswapd", "pgsteal_direct",
        "pgscan_kswapd", "pgscan_direct", "pgscan_anon", "pgscan_file", "pgsteal_anon", "pgsteal_file",
        "workingset_refault_anon", "workingset_activate_anon",
    ];

    /// <summary>mem_cgroup_lruvec(): the lruvec of the cgroup a folio is charged to.</summary>
    Lruvec LruvecOf(int head) => MemcgOf(head)?.Lruvec ?? RootLruvec!;

    /// <summary>folio_lru_list(): lazily freed folios (not swap-backed) are on the file lists.</summary>
    LruList FolioLruList(int head) => LruLists.Of(file: Map.Test(head, PageFlags.LazyFree), active: Map.Test(head, PageFlags.Active));

    /// <summary>The pages on one list kind over every lruvec (the node's NR_LRU_BASE + lru).</summary>
    long NodeLruPages(LruList l) => RootLruvec == null ? 0 : AllLruvecs().Sum(v => v.Pages(l));

    /// <summary>Every lruvec, the root's first, then the cgroups' in the order they were made (mem_cgroup_iter()'s pre-order for a flat hierarchy).</summary>
    IEnumerable<Lruvec> AllLruvecs()
    {
        yield return RootLruvec!;
        foreach (var cg in _memcgs) yield return cg.Lruvec!;
    }

    /// <summary>folio_batch capacity (PAGEVEC_SIZE): the lru_add batch drains when this many gathered.</summary>
    const int FolioBatchSize = 31;

    /// <summary>
    /// The CPU's lru_add batch (cpu_fbatches.lru_add; one CPU, as for the charge stock): order-0
    /// folios added to the LRU wait here, on no list, until it is drained. Reclaim does not see them:
    /// a group at its limit can have nothing to reclaim though it just swapped pages in.
    /// </summary>
    readonly int[] _lruAddBatch = new int[FolioBatchSize];
    int _lruAddCount;

    /// <summary>The folios waiting in the lru_add batch, oldest first (for the invariant checker).</summary>
    internal ReadOnlySpan<int> LruAddBatch => _lruAddBatch.AsSpan(0, _lruAddCount);

    /// <summary>
    /// models folio_add_lru() / folio_add_lru_vma(): the folio joins the CPU's lru_add batch, which
    /// moves to the lists (each folio at the head of its own) once it is full or a large folio joins
    /// it (folio_may_be_lru_cached()).
    /// </summary>
    void LruAdd(int head)
    {
        if (Lru == null || Lru.OnLru(head) || Lru.IsIsolated(head) || LruAddBatch.Contains(head)) return;
        _lruAddBatch[_lruAddCount++] = head;
        if (_lruAddCount == FolioBatchSize || Map.Order(head) > 0) LruAddDrain();
    }

    /// <summary>models lru_add_drain() (and lru_add_drain_all(): the model has one CPU): the lru_add batch moves to the lists, oldest first.</summary>
    internal void LruAddDrain()
    {
        if (_lruAddCount == 0) return;
        for (int i = 0; i < _lruAddCount; i++)
        {
            int head = _lruAddBatch[i];
            Lru!.AddHead(LruvecOf(head), FolioLruList(head), head, 1 << Map.Order(head));
        }
        _lruAddCount = 0;
    }

    /// <summary>lruvec_del_folio() as a folio is freed (or forgets it was isolated).</summary>
    void LruDel(int head)
    {
        if (Lru == null) return;
        if (Lru.OnLru(head)) Lru.Del(LruvecOf(head), head, 1 << Map.Order(head));
        else if (Lru.IsIsolated(head)) Lru.ClearIsolated(head);
        else if (_lruAddCount > 0) LruAddForget(head);
        if (Map.Order(head) == 0) SmallRmap!.Clear(head);
    }

    /// <summary>
    /// A folio freed while in the lru_add batch leaves it. The kernel's batch holds a reference, so
    /// such a folio is freed only when the batch drains; the model frees it at once (every unmap
    /// drains the batch first, as the kernel's does, so this is rare).
    /// </summary>
    void LruAddForget(int head)
    {
        int at = _lruAddBatch.AsSpan(0, _lruAddCount).IndexOf(head);
        if (at < 0) return;
        Array.Copy(_lruAddBatch, at + 1, _lruAddBatch, at, _lruAddCount - at - 1);
        _lruAddCount--;
    }

    /// <summary>Moves a folio on the LRU to the head of the list its flags now name (lruvec_del_folio() then lruvec_add_folio()).</summary>
    void LruMoveToHead(int head)
    {
        if (Lru == null || !Lru.OnLru(head)) return;
        var vec = LruvecOf(head);
        int nr = 1 << Map.Order(head);
        Lru.Del(vec, head, nr);
        Lru.AddHead(vec, FolioLruList(head), head, nr);
    }

    /// <summary>models folio_activate() → lru_activate(): an inactive folio on the LRU goes to the active head (pgactivate).</summary>
    void FolioActivate(int head)
    {
        Map.Set(head, PageFlags.Active);
        if (Lru == null || !Lru.OnLru(head)) return;
        LruMoveToHead(head);
        Stats.Count(VmEvent.Pgactivate, 1 << Map.Order(head));
    }

    /// <summary>models folio_deactivate() → lru_deactivate(): an active folio goes to the inactive head with no references (pgdeactivate).</summary>
    void FolioDeactivate(int head)
    {
        if (!Map.Test(head, PageFlags.Active)) return;
        Map.Clear(head, PageFlags.Active | PageFlags.Referenced);
        if (Lru == null || !Lru.OnLru(head)) return;
        LruMoveToHead(head);
        Stats.Count(VmEvent.Pgdeactivate, 1 << Map.Order(head));
    }

    /// <summary>
    /// models __folio_set_anon() for an order-0 folio mapped for the first time: the VMA's own
    /// anon_vma for an exclusive mapping, else the root of its chain, where every process that may
    /// share the page can be found.
    /// </summary>
    void SetSmallAnonRmap(int head, Vma.Vma vma, ulong addr, bool exclusive = true)
    {
        if (SmallRmap == null || Map.Order(head) != 0 || SmallRmap.AnonVma(head) != 0) return;
        SmallRmap.Set(head, exclusive ? vma.AnonVma : vma.AnonVmaChain[0], LinearPageIndex(vma, addr));
    }

    /// <summary>
    /// models lru_add_split_folio() for an anon folio split to order 0: each new folio goes just on the
    /// newer side of the first, in order (so reclaim meets the first page, then the last down to the
    /// second), or stays isolated with it; each takes its page's anon_vma and index.
    /// </summary>
    void LruSplit(int head, int nr, int anonVma, long index)
    {
        if (Lru == null) return;
        for (int i = 0; i < nr; i++) if (anonVma != 0) SmallRmap!.Set(head + i, anonVma, index + i);
        LruAddSplitPieces(head, Enumerable.Range(head + 1, nr - 1));
    }

    /// <summary>lru_add_split_folio() for the new folios of a split other than the first (<paramref name="head"/>), in order.</summary>
    void LruAddSplitPieces(int head, IEnumerable<int> pieces)
    {
        if (Lru == null) return;
        if (Lru.OnLru(head))
        {
            var vec = LruvecOf(head);
            foreach (int p in pieces) Lru.AddNewerThan(vec, head, p);
        }
        else if (Lru.IsIsolated(head))
        {
            foreach (int p in pieces) Lru.MarkIsolated(p);
        }
    }
}
