using MthpSim.Core.Host;
using MthpSim.Core.Memcg;
using MthpSim.Core.PageAlloc;
using MthpSim.Core.Stats;
using MthpSim.Core.Thp;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/memcontrol.c and mm/memcontrol-v1.c: memory cgroups, their charges and limits.
public sealed unsafe partial class Kernel
{
    readonly List<MemCgroup> _memcgs = new();
    readonly Dictionary<string, MemCgroup> _memcgByName = new(StringComparer.Ordinal);
    /// <summary>Per page frame, the id of the cgroup its folio (or page table) is charged to; made with the first cgroup.</summary>
    LazyHostMemory? _memcgOfFrameBlock;
    ushort* _memcgOfFrame;

    /// <summary>The memory cgroups, in the order they were made.</summary>
    public IReadOnlyList<MemCgroup> Cgroups => _memcgs;
    public MemCgroup? Cgroup(string name) => _memcgByName.GetValueOrDefault(name);

    /// <summary>PAGE_ALLOC_COSTLY_ORDER: charges of larger orders never invoke the OOM killer.</summary>
    const int PageAllocCostlyOrder = 3;

    /// <summary>Makes a memory cgroup (mkdir in the memory hierarchy), without a limit unless one is given.</summary>
    public MemCgroup CreateCgroup(string name, long? limitBytes)
    {
        if (_memcgByName.ContainsKey(name)) throw new ArgumentException($"cgroup '{name}' exists");
        if (_memcgs.Count + 1 >= RootMemcgId) throw new NotSupportedException($"more than {RootMemcgId - 1} memory cgroups");
        if (_memcgOfFrameBlock == null)
        {
            _memcgOfFrameBlock = new LazyHostMemory(Map.TotalPages * sizeof(ushort));
            _memcgOfFrame = (ushort*)_memcgOfFrameBlock.Pointer;
        }
        var cg = new MemCgroup(name, (ushort)(_memcgs.Count + 1));
        if (limitBytes is long l) cg.LimitPages = l / Geo.PageSize;
        if (RootLruvec != null) cg.Lruvec = new Reclaim.Lruvec(cg, RootLruvec);
        _memcgs.Add(cg);
        _memcgByName[name] = cg;
        return cg;
    }

    /// <summary>
    /// models mem_cgroup_resize_max() (a write to memory.limit_in_bytes): a limit below what is
    /// charged reclaims first; if reclaim cannot get usage under it the write fails with -EBUSY and
    /// the limit stays (cgroup v1, as on the live machines; v2's memory.max would OOM-kill instead).
    /// </summary>
    public long SetCgroupLimit(MemCgroup cg, long limitBytes)
    {
        long pages = limitBytes == long.MaxValue ? long.MaxValue : limitBytes / Geo.PageSize;
        if (cg.UsagePages > pages) DrainAllStock(cg);
        // mem_cgroup_resize_max() asks for one page at a time (SWAP_CLUSTER_MAX at least); without
        // swap the model's reclaim keeps the whole overage as its goal. A round that reclaimed
        // nothing fails the write, even when the shrinkers' splits brought the usage under the limit.
        while (cg.UsagePages > pages)
            if (MemcgReclaim(cg, Lru != null ? 1 : cg.UsagePages - pages) == 0) return -Errno.EBUSY;
        cg.LimitPages = pages;
        return 0;
    }

    /// <summary>Moves a process into a cgroup (a write to cgroup.procs): its later charges go there, what it has stays where it was charged.</summary>
    public long AttachCgroup(MmStruct mm, MemCgroup cg)
    {
        if (mm.Exited) return -Errno.ESRCH;
        mm.Memcg?.Members.Remove(mm);
        mm.Memcg = cg;
        cg.Members.Add(mm);
        return 0;
    }

    /// <summary>
    /// Proactive reclaim in a cgroup: all it can (memory.force_empty, rc 0) or at least
    /// <paramref name="bytes"/> (memory.reclaim: -EAGAIN when that much could not be reclaimed).
    /// </summary>
    public long CgroupReclaim(MemCgroup cg, long? bytes)
    {
        long want = bytes is long b ? (b + Geo.PageSize - 1) / Geo.PageSize : long.MaxValue;
        if (bytes == null) DrainAllStock(cg);   // mem_cgroup_force_empty() drains first
        if (bytes == null && Lru != null) { ForceEmpty(cg); return 0; }
        long got = MemcgReclaim(cg, want);
        return bytes == null || got >= want ? 0 : -Errno.EAGAIN;
    }

    /// <summary>The cgroup a page frame is charged to, or null.</summary>
    public MemCgroup? MemcgOf(int pfn) =>
        _memcgOfFrame == null || _memcgOfFrame[pfn] == 0 ? null : _memcgs[_memcgOfFrame[pfn] - 1];

    /// <summary>The first frame of [from, end) charged to a cgroup, or end (a vector at a time).</summary>
    internal int NextCharged(int from, int end)
    {
        if (_memcgOfFrame == null || from >= end) return end;
        int at = new ReadOnlySpan<ushort>(_memcgOfFrame + from, end - from).IndexOfAnyExcept((ushort)0);
        return at < 0 ? end : from + at;
    }

    /// <summary>
    /// The root group's id in swap_cgroup records. The model charges nothing to the root group (it
    /// has no limit), but swap-out records it like any other, and swap-in charges it again.
    /// </summary>
    const ushort RootMemcgId = ushort.MaxValue;
    /// <summary>Stands for the root group as a charge target: a charge to it charges nothing.</summary>
    readonly MemCgroup _rootMemcg = new("", RootMemcgId);

    /// <summary>models swap_cgroup_record()'s id: the group a folio is charged to, the root group when none.</summary>
    ushort SwapCgroupId(int head) => MemcgOf(head)?.Id ?? RootMemcgId;

    /// <summary>
    /// models lookup_swap_cgroup_id() → mem_cgroup_from_id(): the cgroup a slot's page was charged to
    /// when it went out (the root group's stand-in for root), or null when nothing was recorded.
    /// </summary>
    MemCgroup? SwapMemcg(int offset) => SwapInfo!.MemcgId(offset) switch
    {
        0 => null,
        RootMemcgId => _rootMemcg,
        var id => _memcgs[id - 1],
    };

    /// <summary>
    /// models mem_cgroup_charge(): charges a new folio (or page table page) to the cgroup of
    /// <paramref name="mm"/>, or to <paramref name="target"/> (mem_cgroup_swapin_charge_folio(): the
    /// cgroup swap-out recorded); nothing to do outside a cgroup. The allocating task is the mm's own,
    /// or the parent while a fork copies into the child.
    /// </summary>
    internal bool MemcgCharge(int head, MmStruct? mm, ChargeGfp gfp, MemCgroup? target = null)
    {
        var cg = target ?? mm?.Memcg;
        if (cg == null || cg == _rootMemcg) return true;
        int order = Map.Order(head), nr = 1 << order;
        var current = mm == _forkChild ? _forkParent : mm;
        if (!TryChargeMemcg(cg, nr, order, gfp, current)) return false;
        new Span<ushort>(_memcgOfFrame + head, nr).Fill(cg.Id);
        return true;
    }

    /// <summary>
    /// models mem_cgroup_uncharge(): a freed folio gives its pages back to its cgroup; a page table
    /// (kmem, __memcg_kmem_uncharge_page()) gives them to the charge stock.
    /// </summary>
    void MemcgUncharge(int head, int nr, bool kmem = false)
    {
        if (_memcgOfFrame == null || _memcgOfFrame[head] == 0) return;
        var cg = _memcgs[_memcgOfFrame[head] - 1];
        if (kmem) RefillStock(cg, nr); else cg.Uncharge(nr);
        new Span<ushort>(_memcgOfFrame + head, nr).Clear();
    }

    /// <summary>models mem_cgroup_migrate(): the new folio takes over the old one's charge.</summary>
    void MemcgMigrate(int old, int @new, int nr)
    {
        if (_memcgOfFrame == null) return;
        new Span<ushort>(_memcgOfFrame + old, nr).CopyTo(new Span<ushort>(_memcgOfFrame + @new, nr));
        new Span<ushort>(_memcgOfFrame + old, nr).Clear();
    }

    /// <summary>
    /// models try_charge_memcg(): from the CPU's charge stock when it holds enough; else a batch of
    /// MEMCG_CHARGE_BATCH pages (the rest goes to the stock), or just the pages when the batch does
    /// not fit, and on every retry after that. Over the limit, a charge that may not reclaim fails at
    /// once (__GFP_HIGH: is forced); otherwise it reclaims inside the group (then drains the stocks
    /// once), and when that is not enough a small charge (order ≤ PAGE_ALLOC_COSTLY_ORDER, no
    /// __GFP_NORETRY) calls the OOM killer after 16 more rounds of reclaim (nr_retries; each round
    /// the shrinkers try again what they could not do: a pinned folio's split counts split_failed)
    /// and retries until it fits, or until the allocating task, killed, has had its 17 more rounds.
    /// </summary>
    bool TryChargeMemcg(MemCgroup cg, int nr, int order, ChargeGfp gfp, MmStruct? current)
    {
        bool drained = false, passedOom = false;
        int retries = MaxReclaimRetries;
        int batch = Math.Max(MemcgChargeBatch, nr);
        while (true)
        {
            if (ConsumeStock(cg, nr)) return true;
            if (cg.TryCharge(batch))
            {
                if (batch > nr) RefillStock(cg, batch - nr);
                return true;
            }
            if (batch > nr) { batch = nr; continue; }
            if (current is { OomKilled: true } && !passedOom) return ForceCharge(cg, nr, gfp);   // killed by an earlier charge: its fault is given up
            if ((gfp & ChargeGfp.Reclaim) == 0) return ForceCharge(cg, nr, gfp);
            long reclaimed = MemcgReclaim(cg, nr);
            if (cg.Margin >= nr) continue;
            if (!drained) { DrainAllStock(cg); drained = true; continue; }
            if ((gfp & ChargeGfp.NoRetry) != 0) return false;
            if (reclaimed > 0 && nr <= 1 << PageAllocCostlyOrder) continue;
            if (retries-- > 0) continue;
            if (passedOom && current is { OomKilled: true }) return ForceCharge(cg, nr, gfp);   // task_is_dying(): nomem
            if (!MemcgOom(cg, order, current)) return false;
            passedOom = true;
            retries = MaxReclaimRetries;   // OOM_SUCCESS: a kill resets the retries
        }
    }

    /// <summary>try_charge_memcg()'s nomem: an allocation that may dip into reserves (__GFP_HIGH) is charged past the limit; any other fails.</summary>
    static bool ForceCharge(MemCgroup cg, int nr, ChargeGfp gfp)
    {
        if ((gfp & ChargeGfp.High) == 0) return false;
        cg.Charge(nr);
        return true;
    }

    /// <summary>MEMCG_CHARGE_BATCH</summary>
    const int MemcgChargeBatch = 64;
    /// <summary>NR_MEMCG_STOCK: the cgroups one CPU's stock holds pages for.</summary>
    const int NrMemcgStock = 7;
    /// <summary>The cgroups with pages in the stock, in slot order. The model has one CPU (the oracle pins a scenario's processes to one).</summary>
    readonly List<MemCgroup> _stock = new();

    /// <summary>models consume_stock()</summary>
    bool ConsumeStock(MemCgroup cg, int nr)
    {
        if (nr > MemcgChargeBatch || !_stock.Contains(cg) || cg.StockPages < nr) return false;
        cg.StockPages -= nr;
        return true;
    }

    /// <summary>models refill_stock(): pages already charged go to the stock; above a batch it is drained. A full stock gives up a slot (the kernel picks one at random; the model the first).</summary>
    void RefillStock(MemCgroup cg, int nr)
    {
        if (nr > MemcgChargeBatch) { cg.Uncharge(nr); return; }
        if (!_stock.Contains(cg))
        {
            if (_stock.Count == NrMemcgStock) DrainStock(_stock[0]);
            _stock.Add(cg);
        }
        cg.StockPages += nr;
        if (cg.StockPages > MemcgChargeBatch) DrainStock(cg);
    }

    /// <summary>models drain_all_stock() of the root: every group's stock goes back, and the object stock.</summary>
    void DrainAllStock()
    {
        foreach (var cg in _stock.ToList()) DrainStock(cg);
        DrainObjStock();
    }

    /// <summary>models drain_all_stock() of a leaf group: its slot of the charge stock, and the object stock if it holds the group's bytes.</summary>
    void DrainAllStock(MemCgroup cg)
    {
        DrainStock(cg);
        if (_objStockCg == cg) DrainObjStock();
    }

    /// <summary>models drain_stock() for the group's slot of the model's one CPU.</summary>
    void DrainStock(MemCgroup cg)
    {
        if (!_stock.Remove(cg)) return;
        cg.Uncharge(cg.StockPages);
        cg.StockPages = 0;
    }

    /// <summary>SWAP_CLUSTER_MAX: the least a reclaim pass aims to free.</summary>
    const int SwapClusterMax = 32;

    /// <summary>
    /// models try_to_free_mem_cgroup_pages(): what reclaim can take from the group without swap. It
    /// stops once it has max(nr, SWAP_CLUSTER_MAX) pages (lazily freed folios from the LRU, oldest
    /// first; live, a 2M overage of a few pages discarded 56); only when the LRU cannot give that
    /// much does reclaim get to low priorities, where the shrinkers scan the group's part of the
    /// deferred split queue. Returns the pages reclaimed from the LRU (nr_reclaimed): what the
    /// shrinkers free by splitting folios is not counted, though it lowers the usage.
    /// </summary>
    long MemcgReclaim(MemCgroup cg, long nr)
    {
        if (Lru != null) return TryToFreeMemcgPages(cg, nr);
        long target = Math.Max(nr, SwapClusterMax), freed = ShrinkLazyFreeFolios(cg, target);
        if (freed < target) ShrinkSlabRoundWithoutLru(cg);
        // Nothing reclaimed: do_try_to_free_pages() goes through the priorities once more, walking
        // every group (memcg_full_walk), and the shrinkers with it.
        if (freed == 0) ShrinkSlabRoundWithoutLru(cg);
        return freed;
    }

    /// <summary>
    /// models mem_cgroup_oom() → out_of_memory() for a cgroup: no OOM kill for costly orders;
    /// otherwise the member with the highest oom_badness() is killed (a later member wins a tie, as
    /// the task iteration replaces on equal points). Returns whether a task was killed.
    /// </summary>
    bool MemcgOom(MemCgroup cg, int order, MmStruct? current)
    {
        if (order > PageAllocCostlyOrder) return false;
        MmStruct? victim = null;
        long best = long.MinValue;
        foreach (var mm in cg.Members)
        {
            if (mm.Exited || mm.OomKilled) continue;
            long points = OomBadness(mm);
            if (points >= best) (victim, best) = (mm, points);
        }
        if (victim == null) return false;
        Stats.Count(VmEvent.OomKill);
        cg.OomKills++;
        victim.OomKilled = true;
        // The allocating task dies on its way back to user space; any other victim exits now
        // (the model does not wait for the oom reaper).
        if (victim != current) Exit(victim);
        return true;
    }

    /// <summary>models oom_badness() with oom_score_adj 0: resident pages, swap entries and page tables.</summary>
    static long OomBadness(MmStruct mm) =>
        mm.Rss[(int)RssMember.FilePages] + mm.Rss[(int)RssMember.AnonPages] + mm.Rss[(int)RssMember.ShmemPages]
        + mm.Rss[(int)RssMember.SwapEnts] + mm.NrPtes;

    /// <summary>
    /// The end of an OOM-killed task: the process that the OOM killer chose while it allocated exits
    /// now (SIGKILL on return to user space). Returns -ESRCH for the statement that was cut short.
    /// </summary>
    public long ReapOomVictim(MmStruct mm)
    {
        if (!mm.Exited) Exit(mm);
        return -Errno.ESRCH;
    }

    /// <summary>What a failed allocation in a fault means to the syscall: -ESRCH if the OOM killer took the task, else -ENOMEM.</summary>
    long FaultOomRc(MmStruct mm) => mm.OomKilled ? ReapOomVictim(mm) : -Errno.ENOMEM;

    /// <summary>models alloc_hugepage_khugepaged_gfpmask(), and GFP_TRANSHUGE for MADV_COLLAPSE.</summary>
    internal Gfp CollapseGfp(Khugepaged.CollapseControl cc) =>
        !cc.IsKhugepaged || Thp.KhugepagedDefrag != 0 ? Gfp.Transhuge : Gfp.None;

    ChargeGfp CollapseChargeGfp(Khugepaged.CollapseControl cc) => ChargeOf(CollapseGfp(cc));

    /// <summary>The charged size of a vm_area_struct (its slab object, 192 bytes here, and the obj_cgroup pointer).</summary>
    const int VmaObjectBytes = 200;

    /// <summary>sizeof(struct sigqueue) with the obj_cgroup pointer: what a queued signal charges.</summary>
    const int SigqueueObjectBytes = 88;

    /// <summary>
    /// The CPU's object stock (obj_stock_pcp): the group whose object bytes it holds (cached_objcg,
    /// null when drained) and how many. One CPU, as for the charge stock.
    /// </summary>
    MemCgroup? _objStockCg;
    int _objStockBytes;

    /// <summary>
    /// models obj_cgroup_charge() for a kernel object (SLAB_ACCOUNT) of the mm's cgroup: from the
    /// object stock if it holds enough of the group's bytes (consume_obj_stock()), else one more
    /// page through try_charge_memcg() (which takes a batch of 64 when it fits: the first mapping in
    /// a group charges that much), the rest of it to the stock. Charged: vm_area_structs, anon_vmas
    /// and their chain entries (given back when freed), and a signal's sigqueue; fork's objects are
    /// not modelled. False when the page cannot be charged.
    /// </summary>
    bool ChargeKernelObject(MmStruct mm, int bytes, ChargeGfp gfp = ChargeGfp.Kernel)
    {
        var cg = mm.Memcg;
        if (cg == null) return true;
        if (_objStockCg == cg && _objStockBytes >= bytes) { _objStockBytes -= bytes; return true; }
        if (!TryChargeMemcg(cg, 1, 0, gfp, mm)) return false;
        cg.KmemPages++;
        RefillObjStock(cg, (int)Geo.PageSize - bytes, allowUncharge: false);
        return true;
    }

    /// <summary>models obj_cgroup_uncharge() for a freed kernel object of <paramref name="cg"/> (null: uncharged): its bytes go back to the object stock.</summary>
    void FreeKernelObject(MemCgroup? cg, int bytes)
    {
        if (cg != null) RefillObjStock(cg, bytes, allowUncharge: true);
    }

    /// <summary>The group of a kernel object's recorded id (0: none).</summary>
    MemCgroup? MemcgOfId(ushort id) => id == 0 ? null : _memcgs[id - 1];

    /// <summary>The id a kernel object of <paramref name="mm"/>'s group records (0: the root group, nothing charged).</summary>
    static ushort ObjCgIdOf(MmStruct mm) => mm.Memcg?.Id ?? 0;

    /// <summary>
    /// models refill_obj_stock(): bytes go to the object stock, which first changes to the group if it
    /// held another's (that one drained, the group's nr_charged_bytes taken in); whole pages above a
    /// page go back to the charge stock when a free (or the change) allows it.
    /// </summary>
    void RefillObjStock(MemCgroup cg, int bytes, bool allowUncharge)
    {
        if (_objStockCg != cg)
        {
            DrainObjStock();
            (_objStockCg, _objStockBytes, cg.NrChargedBytes) = (cg, cg.NrChargedBytes, 0);
            allowUncharge = true;
        }
        _objStockBytes += bytes;
        if (!allowUncharge || _objStockBytes <= Geo.PageSize) return;
        int pages = _objStockBytes >> PageShift;
        _objStockBytes &= (int)Geo.PageSize - 1;
        cg.KmemPages -= pages;   // obj_cgroup_uncharge_pages()
        RefillStock(cg, pages);
    }

    /// <summary>models drain_obj_stock(): whole pages of the stock are uncharged, the rest goes to its group's nr_charged_bytes.</summary>
    void DrainObjStock()
    {
        if (_objStockCg is not { } cg) return;
        int pages = _objStockBytes >> PageShift;
        cg.KmemPages -= pages;
        cg.Uncharge(pages);
        cg.NrChargedBytes += _objStockBytes & ((int)Geo.PageSize - 1);
        (_objStockCg, _objStockBytes) = (null, 0);
    }

    /// <summary>
    /// models the sigqueue of force_sig_fault(): the SIGSEGV or SIGBUS of a user access that faulted
    /// fatally is queued in an object charged to the task's group (GFP_ATOMIC: forced past the limit
    /// if need be), and freed once the signal is delivered.
    /// </summary>
    void ForceSigFault(MmStruct mm)
    {
        if (mm.Memcg is not { } cg || !ChargeKernelObject(mm, SigqueueObjectBytes, ChargeGfp.Atomic)) return;
        FreeKernelObject(cg, SigqueueObjectBytes);   // __sigqueue_free()
    }

    /// <summary>models vma_thp_gfp_mask(): what the defrag setting lets a large-folio allocation (and its charge) do.</summary>
    internal Gfp ThpGfp(Vma.Vma? vma)
    {
        bool madvised = vma != null && (vma.Flags & VmFlags.Hugepage) != 0;
        return Thp.Defrag switch
        {
            ThpDefrag.Always => Gfp.Transhuge | (madvised ? 0 : Gfp.NoRetry),
            ThpDefrag.Defer => Gfp.KswapdReclaim,
            ThpDefrag.DeferMadvise => madvised ? Gfp.DirectReclaim : Gfp.KswapdReclaim,
            ThpDefrag.Madvise => madvised ? Gfp.DirectReclaim : Gfp.None,
            _ => Gfp.None,
        };
    }

    /// <summary>The charge's half of <see cref="ThpGfp"/>: the reclaim and retry bits.</summary>
    internal ChargeGfp ThpChargeGfp(Vma.Vma? vma) => ChargeOf(ThpGfp(vma));

    static ChargeGfp ChargeOf(Gfp gfp) => (ChargeGfp)(gfp & (Gfp.DirectReclaim | Gfp.NoRetry));
}
