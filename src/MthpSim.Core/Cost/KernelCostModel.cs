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
    /// 6.18.44 in a 2-CPU Firecracker VM), 2026-12-05; the khugepaged units are the collapse model's,
    /// and the two folio-split units come from the 11:25 run (`--runs 3`) that added the MADV_FREE split loops (each
    /// is exercised by those loops alone, so the rest of that fit does not bear on them).
    /// </summary>
    public static KernelCostModel Default { get; } = FromFit(new Dictionary<KernelWork, double>
    {
        [KernelWork.Faults] = 535,
        [KernelWork.PagesZeroed] = 365,
        [KernelWork.PagesCopied] = 449,
        [KernelWork.FolioAllocs] = 970,
        [KernelWork.FolioFrees] = 164,
        [KernelWork.PagesFreed] = 9.87,
        [KernelWork.PteBatches] = 535,
        [KernelWork.Ptes] = 67.5,
        [KernelWork.RmapFolios] = 28,
        [KernelWork.RmapPages] = 9.65,
        [KernelWork.PageTableAllocs] = 2164,
        [KernelWork.PageTableFrees] = 388,
        [KernelWork.ForkBatches] = 8.5,
        [KernelWork.ForkPtes] = 23.6,
        [KernelWork.ZapBatches] = 65.4,
        [KernelWork.ZapPtes] = 5.02,
        [KernelWork.TlbFlushes] = 776,
        [KernelWork.Forks] = 0,
        [KernelWork.PmdSplits] = 8154,
        [KernelWork.FolioSplits] = 2814,
        [KernelWork.SplitPages] = 653,
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
