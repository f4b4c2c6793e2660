using System.Collections.Immutable;
using MthpSim.Core.Khugepaged;

namespace MthpSim.Core.Cost;

/// <summary>
/// Kernel CPU time estimated from the work the model counts: each <see cref="KernelWork"/> unit costs
/// a constant number of nanoseconds (docs/cost-model.md). The constants are fitted to the live
/// kernel by <c>mthpsim calibrate cost</c>; the time is an estimate beside the model, and never
/// moves the virtual clock.
/// </summary>
public sealed record KernelCostModel
{
    /// <summary>Nanoseconds per unit, indexed by <see cref="KernelWork"/>.</summary>
    public ImmutableArray<double> NsPerUnit { get; }

    public KernelCostModel(IReadOnlyList<double> nsPerUnit)
    {
        if (nsPerUnit.Count != KernelWorkNames.Count) throw new ArgumentException($"a cost model needs {KernelWorkNames.Count} constants, got {nsPerUnit.Count}");
        if (nsPerUnit.Any(v => v < 0 || !double.IsFinite(v))) throw new ArgumentException("a cost model's constants must be finite and not negative");
        NsPerUnit = [.. nsPerUnit];
    }

    public double this[KernelWork unit] => NsPerUnit[(int)unit];

    /// <summary>The estimated time of the work in <paramref name="t"/> charged to <paramref name="op"/> (every operation when null), in ns.</summary>
    public double Ns(WorkTally t, CostOp? op = null)
    {
        double ns = 0;
        for (int u = 0; u < KernelWorkNames.Count; u++)
            ns += NsPerUnit[u] * (op is CostOp o ? t[o, (KernelWork)u] : t.Total((KernelWork)u));
        return ns;
    }

    /// <summary>The same model with some constants replaced.</summary>
    public KernelCostModel With(IReadOnlyDictionary<KernelWork, double> values)
    {
        var ns = NsPerUnit.ToArray();
        foreach (var (unit, v) in values) ns[(int)unit] = v;
        return new KernelCostModel(ns);
    }

    /// <summary>
    /// Fitted by <c>mthpsim calibrate cost --runs 5</c> on this project's development machine (Linux
    /// 6.18.44 in a 2-CPU Firecracker VM, free page reporting off while it measured), 2026-12-05;
    /// the khugepaged units are the collapse model's.
    /// </summary>
    public static KernelCostModel Default { get; } = FromFit(new Dictionary<KernelWork, double>
    {
        [KernelWork.Faults] = 555,
        [KernelWork.PagesZeroed] = 376,
        [KernelWork.PagesCopied] = 373,
        [KernelWork.FolioAllocs] = 1058,
        [KernelWork.FolioFrees] = 170,
        [KernelWork.PagesFreed] = 9.94,
        [KernelWork.PteBatches] = 555,
        [KernelWork.Ptes] = 18,
        [KernelWork.RmapFolios] = 26.8,
        [KernelWork.RmapPages] = 9.89,
        [KernelWork.PageTableAllocs] = 2475,
        [KernelWork.PageTableFrees] = 454,
        [KernelWork.ForkBatches] = 3.45,
        [KernelWork.ForkPtes] = 29.7,
        [KernelWork.ZapBatches] = 63.7,
        [KernelWork.ZapPtes] = 3.34,
        [KernelWork.TlbFlushes] = 611,
        [KernelWork.Forks] = 0,
        [KernelWork.PmdSplits] = 8238,
        [KernelWork.FolioSplits] = 2919,
        [KernelWork.SplitPages] = 654,
    });

    /// <summary>A model from fitted constants; the scan and collapse units come from <see cref="CollapseCostModel.Default"/>, any other unit left out costs nothing.</summary>
    public static KernelCostModel FromFit(IReadOnlyDictionary<KernelWork, double> fitted)
    {
        var ns = new double[KernelWorkNames.Count];
        ns[(int)KernelWork.ScanPtes] = CollapseCostModel.Default.PteReadNs;
        ns[(int)KernelWork.CollapseAttempts] = CollapseCostModel.Default.AttemptNs;
        foreach (var (unit, v) in fitted) ns[(int)unit] = v;
        return new KernelCostModel(ns);
    }
}
