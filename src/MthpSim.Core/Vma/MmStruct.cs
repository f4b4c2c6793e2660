using MthpSim.Core.PageTable;

namespace MthpSim.Core.Vma;

/// <summary>RSS counter indexes (enum of mm_struct rss_stat).</summary>
public enum RssMember { FilePages, AnonPages, SwapEnts, ShmemPages, Count }

/// <summary>An address space (mm_struct): VMAs sorted by address, page tables, RSS counters, mm flags.</summary>
public sealed class MmStruct
{
    public int Id { get; }
    public string Name { get; }
    /// <summary>The VMAs in address order, non-overlapping (mm->mm_mt).</summary>
    public VmaTree Vmas { get; } = new();
    public PageTables PageTables { get; }
    public long[] Rss { get; } = new long[(int)RssMember.Count];
    /// <summary>MMF_DISABLE_THP_COMPLETELY (prctl PR_SET_THP_DISABLE, 1).</summary>
    public bool ThpDisabled;
    /// <summary>MMF_DISABLE_THP_EXCEPT_ADVISED.</summary>
    public bool ThpDisabledExceptAdvised;
    /// <summary>MMF_VM_HUGEPAGE: registered with khugepaged.</summary>
    public bool KhugepagedRegistered;
    /// <summary>MMF_HAS_PINNED: pages of this mm were ever pinned (fork then copies maybe-pinned pages).</summary>
    public bool HasPinned;
    /// <summary>Page-table pages in use, PTE, PMD and PUD (mm_pgtables_bytes / page size).</summary>
    public long NrPtes;
    public bool Exited;
    /// <summary>The memory cgroup its new charges go to (null: the root, which has no limit).</summary>
    public Memcg.MemCgroup? Memcg;
    /// <summary>Chosen by the OOM killer (tsk_is_oom_victim()): it gets no more memory and exits.</summary>
    public bool OomKilled;
    /// <summary>task_struct min_flt and maj_flt of the process's one thread (/proc/PID/stat fields 10 and 12).</summary>
    public long MinFlt, MajFlt;
    /// <summary>Kernel work done for this process, per operation (what the cost model charges).</summary>
    public Cost.WorkTally Work { get; } = new();
    /// <summary>mm->start_brk and mm->brk: where the heap begins and the current break.</summary>
    public ulong StartBrk, Brk;
    /// <summary>The process's userfaultfd, once it has one (the ctx its registered VMAs point to).</summary>
    public Userfaultfd.UserfaultfdCtx? Uffd;

    public MmStruct(int id, string name, PageTables pageTables) { Id = id; Name = name; PageTables = pageTables; }

    /// <summary>The process id the model shows where the kernel shows one (trace lines, thpmaps): 1000 + Id, above the kernel threads.</summary>
    public int Pid => 1000 + Id;

    /// <summary>models find_vma_intersection()/vma_lookup(): the VMA containing addr, or null.</summary>
    public Vma? FindVma(ulong addr) => Vmas.Lookup(addr);

    /// <summary>VMAs intersecting [start, end), in address order.</summary>
    public IEnumerable<Vma> Intersecting(ulong start, ulong end) => Vmas.Intersecting(start, end);
    public bool AnyIntersecting(ulong start, ulong end) => Vmas.AnyIntersecting(start, end);

    public void Insert(Vma v) => Vmas.Insert(v);
}
