using System.CommandLine;
using MthpSim.Bench.Calibration;
using MthpSim.Bench.Live;
using MthpSim.Core.Cost;
using MthpSim.Core.Khugepaged;
using MthpSim.Oracle.Settings;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim calibrate collapse</c> and <c>mthpsim calibrate cost</c>: measure what kernel work costs
/// on the live kernel and fit <see cref="CollapseCostModel"/> (docs/collapse-cost.md) and
/// <see cref="KernelCostModel"/> (docs/cost-model.md), next to the constants built in.
/// </summary>
public static class CalibrateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var runs = new Option<int>("--runs") { Description = "Runs of each measurement; figures are medians", DefaultValueFactory = _ => 3 };
        var collapse = new Command("collapse", "Time MADV_COLLAPSE of 2M ranges, page zeroing and khugepaged full scans on the live kernel (root; THP settings saved and restored) and fit the collapse cost model") { runs };
        collapse.SetAction(pr =>
        {
            int n = pr.GetValue(runs);
            if (n < 1) { stderr.WriteLine("mthpsim calibrate collapse: --runs must be at least 1"); return 2; }
            LiveBench live;
            try { live = LiveBench.Open([]); }
            catch (MthpSim.Oracle.Live.OracleUnavailableException e)
            {
                stderr.WriteLine($"mthpsim calibrate collapse: live kernel unavailable: {e.Message}");
                return 3;
            }
            CollapseCalibration.Result result;
            try { result = CollapseCalibration.Run(live, n, msg => stderr.WriteLine($"calibrate: {msg}")); }
            catch (OperationCanceledException) when (live.Interrupted is { } signal)
            {
                stderr.WriteLine($"interrupted by {signal}; THP settings restored");
                return SettingsGuard.ExitStatus(signal);
            }
            catch (InvalidOperationException e)
            {
                stderr.WriteLine($"mthpsim calibrate collapse: {e.Message}");
                return 1;
            }
            stdout.WriteLine($"mthpsim calibrate collapse: live kernel {live.KernelRelease}, median of {n} run(s)");
            stdout.Write(CollapseCalibration.Report(result, CollapseCostModel.Default));
            return 0;
        });
        var costRuns = new Option<int>("--runs") { Description = "Runs of each measurement; figures are medians", DefaultValueFactory = _ => 3 };
        var cost = new Command("cost", "Time fault, fork, munmap, copy-on-write and PMD split loops at 4K, 16K, 64K and 2M on the live kernel (root; THP settings saved and restored) and fit the kernel cost model; exit 1 when a validation pattern is off by more than 20 %") { costRuns };
        cost.SetAction(pr =>
        {
            int n = pr.GetValue(costRuns);
            if (n < 1) { stderr.WriteLine("mthpsim calibrate cost: --runs must be at least 1"); return 2; }
            LiveBench live;
            try { live = LiveBench.Open([]); }
            catch (MthpSim.Oracle.Live.OracleUnavailableException e)
            {
                stderr.WriteLine($"mthpsim calibrate cost: live kernel unavailable: {e.Message}");
                return 3;
            }
            CostCalibration.Result result;
            try { result = CostCalibration.Run(live, n, msg => stderr.WriteLine($"calibrate: {msg}")); }
            catch (OperationCanceledException) when (live.Interrupted is { } signal)
            {
                stderr.WriteLine($"interrupted by {signal}; THP settings restored");
                return SettingsGuard.ExitStatus(signal);
            }
            catch (InvalidOperationException e)
            {
                stderr.WriteLine($"mthpsim calibrate cost: {e.Message}");
                return 1;
            }
            stdout.WriteLine($"mthpsim calibrate cost: live kernel {live.KernelRelease}, median of {n} run(s), 1 GiB regions");
            stdout.Write(CostCalibration.Report(result, KernelCostModel.Default));
            return result.WithinTolerance ? 0 : 1;
        });
        return new Command("calibrate", "Fit the simulator's cost models to the live kernel") { collapse, cost };
    }
}
