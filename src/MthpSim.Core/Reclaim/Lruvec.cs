namespace MthpSim.Core.Reclaim;

/// <summary>
/// struct lruvec of one memory cgroup (or of the root, for memory charged to none) on the model's one
/// node: the ends of its four LRU lists (the links are per page frame, in <see cref="FolioLru"/>),
/// their sizes in pages, and the reclaim costs lru_note_cost() keeps.
/// </summary>
public sealed class Lruvec
{
    /// <summary>The most recently added folio of each list (list_add() puts folios here), -1 if empty.</summary>
    internal readonly int[] Head = [-1, -1, -1, -1];
    /// <summary>The oldest folio of each list, where isolate_lru_folios() takes from; -1 if empty.</summary>
    internal readonly int[] Tail = [-1, -1, -1, -1];
    readonly long[] _pages = new long[LruLists.Count];

    /// <summary>The cgroup this is the lruvec of; null for the root.</summary>
    public Memcg.MemCgroup? Memcg { get; }
    /// <summary>The parent's lruvec (the root's for a cgroup), null for the root.</summary>
    internal Lruvec? Parent { get; }
    internal ulong AnonCost, FileCost;
    /// <summary>The list sizes as the memcg statistics showed them at their last flush (the root's: every lruvec's).</summary>
    internal readonly long[] Flushed = new long[LruLists.Count];
    /// <summary>lruvec->nonresident_age: pages evicted or activated here and below, the clock of refault distances.</summary>
    internal long NonresidentAge;
    /// <summary>The deferred split shrinker's nr_deferred for this cgroup (the root's: the node's): scan work put off to later calls.</summary>
    internal long SplitShrinkerDeferred;

    internal Lruvec(Memcg.MemCgroup? memcg, Lruvec? parent) { Memcg = memcg; Parent = parent; }

    /// <summary>lruvec_lru_size(): pages on one list.</summary>
    public long Pages(LruList l) => _pages[(int)l];
    internal void AddPages(LruList l, long nr) => _pages[(int)l] += nr;
}
