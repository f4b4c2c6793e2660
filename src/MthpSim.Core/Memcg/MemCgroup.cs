using MthpSim.Core.Vma;

namespace MthpSim.Core.Memcg;

/// <summary>
/// A memory cgroup (struct mem_cgroup) with its memory page_counter: pages charged now (the
/// charge stock included), the most ever charged, the hard limit (memory.max /
/// memory.limit_in_bytes), and the processes in it in the order they joined (the order
/// css_task_iter visits them, which breaks OOM-badness ties).
/// </summary>
public sealed class MemCgroup
{
    public string Name { get; }
    /// <summary>The index stored per page frame for the folios charged here (0 means uncharged).</summary>
    internal ushort Id { get; }
    public long LimitPages { get; internal set; } = long.MaxValue;
    public long UsagePages { get; private set; }
    public long MaxUsagePages { get; private set; }
    /// <summary>memory.failcnt: charges that hit the limit.</summary>
    public long Failcnt { get; internal set; }
    /// <summary>memory.events oom_kill of this group.</summary>
    public long OomKills { get; internal set; }
    internal List<MmStruct> Members { get; } = new();
    /// <summary>Pages charged ahead into the CPU's charge stock (memcg_stock_pcp): part of the usage, owned by no folio.</summary>
    public int StockPages { get; internal set; }
    /// <summary>Pages charged for kernel objects (slab, through the obj_cgroup): part of the usage.</summary>
    public long KmemPages { get; internal set; }
    /// <summary>
    /// Bytes of those pages no object uses, handed back by a drained object stock (nr_charged_bytes):
    /// the stock takes them again only when it next changes to this group.
    /// </summary>
    internal int NrChargedBytes { get; set; }
    /// <summary>The group's LRU lists (mem_cgroup_lruvec()); null when the model keeps no LRU (no swap device).</summary>
    internal Reclaim.Lruvec? Lruvec { get; set; }
    /// <summary>The deferred split shrinker's nr_deferred for the group when there is no <see cref="Lruvec"/> to keep it.</summary>
    internal long SplitShrinkerDeferred;

    internal MemCgroup(string name, ushort id) { Name = name; Id = id; }

    /// <summary>models page_counter_try_charge(): fails, charging nothing, when the limit would be exceeded.</summary>
    internal bool TryCharge(long nr)
    {
        if (UsagePages + nr > LimitPages) { Failcnt++; return false; }
        Charge(nr);
        return true;
    }

    /// <summary>models page_counter_charge(): charges even above the limit.</summary>
    internal void Charge(long nr)
    {
        UsagePages += nr;
        if (UsagePages > MaxUsagePages) MaxUsagePages = UsagePages;
    }

    internal void Uncharge(long nr)
    {
        UsagePages -= nr;
        if (UsagePages < 0) throw new InvalidOperationException($"memory cgroup '{Name}' uncharged below zero");
    }

    /// <summary>models mem_cgroup_margin(): pages that can still be charged.</summary>
    internal long Margin => LimitPages == long.MaxValue ? long.MaxValue : Math.Max(0, LimitPages - UsagePages);
}
