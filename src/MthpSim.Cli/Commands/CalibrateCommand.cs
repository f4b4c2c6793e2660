using System.CommandLine;
using MthpSim.Bench.Calibration;
using MthpSim.Bench.Live;
using MthpSim.Core.Khugepaged;
using MthpSim.Oracle.Settings;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim calibrate collapse</c>: measures what collapse work costs on the live kernel and fits
/// <see cref="CollapseCostModel"/> (docs/collapse-cost.md), next to the constants built in.
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
        return new Command("calibrate", "Fit the simulator's cost models to the live kernel") { collapse };
    }
}
