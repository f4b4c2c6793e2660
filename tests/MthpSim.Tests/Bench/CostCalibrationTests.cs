using MthpSim.Bench.Calibration;
using MthpSim.Core.Cost;

namespace MthpSim.Tests.Bench;

/// <summary>The kernel cost model's fit (the live measurements themselves are `mthpsim calibrate cost`'s).</summary>
public class CostCalibrationTests
{
    [Fact]
    public void Nnls_keeps_every_value_non_negative_and_fits_the_rest()
    {
        // Unconstrained, x = (1, -1); with x >= 0 the best is x2 = 0 and x1 = 0.5.
        var x = Nnls.Solve(new double[,] { { 1, 0 }, { 0, 1 }, { 1, 1 } }, [1, -1, 0]);
        Assert.Equal(0.5, x[0], 9);
        Assert.Equal(0, x[1], 9);
        // A consistent system with a positive solution is solved exactly.
        var y = Nnls.Solve(new double[,] { { 2, 1 }, { 1, 3 }, { 1, 1 } }, [5, 10, 4]);
        Assert.Equal(1, y[0], 9);
        Assert.Equal(3, y[1], 9);
    }

    static readonly IReadOnlyList<CostCalibration.Pattern> Small = CostCalibration.Patterns(region: 64L << 20);

    /// <summary>The built-in constants, with a cost for the folio splits they leave uncalibrated (a pattern that took no time would be no measurement).</summary>
    static readonly KernelCostModel Truth = KernelCostModel.Default.With(new Dictionary<KernelWork, double> { [KernelWork.FolioSplits] = 3000, [KernelWork.SplitPages] = 600 });

    [Fact]
    public void Every_pattern_s_simulation_counts_the_work_its_live_twin_does()
    {
        double Unit(string name, KernelWork u) => Small.Single(p => p.Name == name).SimulatedWork()[(int)u];
        Assert.Equal(1, Unit("write-4K", KernelWork.Faults), 6);
        Assert.Equal(1.0 / 16, Unit("write-64K", KernelWork.Faults), 6);
        Assert.Equal(1.0 / 512, Unit("write-2M", KernelWork.Faults), 6);
        Assert.Equal(1.0 / 16, Unit("fork-64K", KernelWork.ForkBatches), 6);
        Assert.Equal(1.0 / 16, Unit("fork-64K", KernelWork.ZapBatches), 6);   // the child's exit
        Assert.Equal(0, Unit("fork-64K", KernelWork.FolioFrees));             // the parent keeps every folio
        Assert.Equal(1, Unit("munmap-2M", KernelWork.PagesFreed), 6);
        Assert.Equal(1, Unit("cow-64K", KernelWork.PagesCopied), 6);
        Assert.Equal(0, Unit("cow-64K", KernelWork.ForkBatches));             // the fork is the setup, not timed
        Assert.Equal(1, Unit("split-2M", KernelWork.PmdSplits), 6);
        Assert.Equal(1, Unit("free-split-64K", KernelWork.FolioSplits), 6);   // per call: one folio split
        Assert.Equal(1, Unit("free-split-16K", KernelWork.FolioSplits), 6);
        Assert.Equal(16, Unit("free-split-64K", KernelWork.SplitPages), 6);
        Assert.Equal(0, Unit("read-4K", KernelWork.FolioAllocs));
    }

    [Fact]
    public void A_fit_to_times_the_model_itself_gives_predicts_every_pattern()
    {
        var truth = Truth;
        var measured = Small.Select(p =>
        {
            var work = p.SimulatedWork();
            double ns = Enumerable.Range(0, KernelWorkNames.Count).Sum(u => truth.NsPerUnit[u] * work[u]);
            return new CostCalibration.Measured(p.Name, p.Unit, p.Validated, ns, work);
        }).ToList();
        var r = CostCalibration.Fit(measured, zeroNs: 100, copyNs: 400);
        Assert.True(r.WithinTolerance);
        Assert.All(r.Rows, row => Assert.InRange(Math.Abs(row.Error), 0, 0.02));
        Assert.Contains(KernelWork.ForkBatches, r.Fitted);
        Assert.DoesNotContain(KernelWork.ScanPtes, r.Fitted);
        Assert.Equal(truth[KernelWork.ScanPtes], r.Model[KernelWork.ScanPtes]);
        Assert.All(r.Model.NsPerUnit, v => Assert.True(v >= 0));
        string report = CostCalibration.Report(r, truth);
        Assert.All(Small, p => Assert.Contains(p.Name, report));
        Assert.Contains("every validation pattern within 20 %", report);
        Assert.True(r.Faithful);
        Assert.DoesNotContain("fell back", report);
    }

    [Fact]
    public void A_loop_whose_faults_fell_back_makes_the_fit_untrusted()
    {
        static List<CostCalibration.Measured> Measure(long fallbacksAt64K) => Small.Select(p =>
        {
            var work = p.SimulatedWork();
            double ns = Enumerable.Range(0, KernelWorkNames.Count).Sum(u => Truth.NsPerUnit[u] * work[u]);
            return new CostCalibration.Measured(p.Name, p.Unit, p.Validated, ns, work, p.Name == "write-64K" ? fallbacksAt64K : 0);
        }).ToList();
        var r = CostCalibration.Fit(Measure(3), zeroNs: 100, copyNs: 400);
        Assert.True(r.WithinTolerance);   // the times fit, but not the work they were fitted to
        Assert.False(r.Faithful);
        Assert.Equal(3, r.Rows.Single(row => row.Name == "write-64K").FaultFallbacks);
        Assert.Contains("some faults fell back", CostCalibration.Report(r, KernelCostModel.Default));
    }

    [Fact]
    public void A_pattern_the_work_cannot_explain_is_reported_over_the_bound()
    {
        var measured = Small.Select(p =>
        {
            var work = p.SimulatedWork();
            double ns = Enumerable.Range(0, KernelWorkNames.Count).Sum(u => Truth.NsPerUnit[u] * work[u]);
            // cow-4K three times what its work explains, beside cow-64K that does the same work per page
            return new CostCalibration.Measured(p.Name, p.Unit, p.Validated, p.Name == "cow-4K" ? 3 * ns : ns, work);
        }).ToList();
        var r = CostCalibration.Fit(measured, zeroNs: 100, copyNs: 400);
        Assert.False(r.WithinTolerance);
        Assert.Contains("over 20%", CostCalibration.Report(r, KernelCostModel.Default));
    }
}
