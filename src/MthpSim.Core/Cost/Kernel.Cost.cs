using System.Runtime.CompilerServices;
using MthpSim.Core.Cost;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// What the cost model charges: kernel work counted per process and operation (models no kernel code).
public sealed partial class Kernel
{
    /// <summary>Work no process asked for (kswapd's reclaim, kcompactd).</summary>
    public WorkTally KernelThreadsWork { get; } = new();

    /// <summary>The constants that turn counted work into estimated kernel CPU time.</summary>
    public KernelCostModel CostModel { get; set; } = KernelCostModel.Default;

    /// <summary>The counts work is charged to now (a process's, or the kernel threads'), and where its operation's row starts.</summary>
    long[] _work = null!;
    int _workRow;

    void InitCostAccounting() => (_work, _workRow) = (KernelThreadsWork.Counts, (int)CostOp.Other * KernelWorkNames.Count);

    /// <summary>Counts <paramref name="n"/> units of work for the process and operation being charged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Work(KernelWork unit, long n = 1) => _work[_workRow + (int)unit] += n;

    /// <summary>One set_ptes() (or PMD entry set) of <paramref name="entries"/> entries.</summary>
    internal void SetPtesWork(int entries)
    {
        Work(KernelWork.PteBatches);
        Work(KernelWork.Ptes, entries);
    }

    /// <summary>One per-folio rmap update covering <paramref name="pages"/> per-page mapcounts (0 for a PMD mapping).</summary>
    internal void RmapWork(int pages)
    {
        Work(KernelWork.RmapFolios);
        Work(KernelWork.RmapPages, pages);
    }

    /// <summary>The units of work charged so far to the process and operation being charged.</summary>
    internal long WorkCharged(KernelWork unit) => _work[_workRow + (int)unit];

    /// <summary>Charges the work done until the scope ends to <paramref name="mm"/> (the kernel threads when null) and <paramref name="op"/>.</summary>
    internal CostScope ChargeTo(MmStruct? mm, CostOp op)
    {
        var scope = new CostScope(this, _work, _workRow);
        _work = (mm?.Work ?? KernelThreadsWork).Counts;
        _workRow = (int)op * KernelWorkNames.Count;
        return scope;
    }

    /// <summary>Charges the work done until the scope ends to <paramref name="op"/>, for the process charged now.</summary>
    internal CostScope ChargeTo(CostOp op)
    {
        var scope = new CostScope(this, _work, _workRow);
        _workRow = (int)op * KernelWorkNames.Count;
        return scope;
    }

    /// <summary>Restores what was charged before, when disposed.</summary>
    internal readonly struct CostScope(Kernel k, long[] work, int row) : IDisposable
    {
        public void Dispose() => (k._work, k._workRow) = (work, row);
    }

    /// <summary>Estimated kernel CPU time of the work done for <paramref name="mm"/> (for <paramref name="op"/> only, when given), in ns.</summary>
    public double CostNs(MmStruct mm, CostOp? op = null) => CostModel.Ns(mm.Work, op);
}
