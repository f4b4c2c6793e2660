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
        var collapse = Calibration(stdout, stderr, "collapse",
            "Time MADV_COLLAPSE of 2M ranges, page zeroing and khugepaged full scans on the live kernel (root; THP settings saved and restored) and fit the collapse cost model",
            (live, n, log) =>
            {
                var r = CollapseCalibration.Run(live, n, log);
                return ($"median of {n} run(s)", CollapseCalibration.Report(r, CollapseCostModel.Default), 0);
            });
        var cost = Calibration(stdout, stderr, "cost",
            "Time fault, fork, munmap, copy-on-write and PMD split loops at 4K, 16K, 64K and 2M on the live kernel (root; THP settings saved and restored) and fit the kernel cost model; exit 1 when a validation pattern is off by more than 20 %",
            (live, n, log) =>
            {
                var r = CostCalibration.Run(live, n, log);
                return ($"median of {n} run(s), 1 GiB regions", CostCalibration.Report(r, KernelCostModel.Default), r.WithinTolerance && r.Faithful ? 0 : 1);
            });
        return new Command("calibrate", "Fit the simulator's cost models to the live kernel") { collapse, cost };
    }

    /// <summary>
    /// One calibration subcommand: --runs, the live kernel opened (exit 3 when it cannot be), the
    /// measurements (exit 1 when one fails, 130/143 when interrupted, settings restored), then the
    /// report and the exit status <paramref name="run"/> gives.
    /// </summary>
    static Command Calibration(TextWriter stdout, TextWriter stderr, string name, string description,
        Func<LiveBench, int, Action<string>, (string Header, string Report, int ExitCode)> run)
    {
        var runs = new Option<int>("--runs") { Description = "Runs of each measurement; figures are medians", DefaultValueFactory = _ => 3 };
        var cmd = new Command(name, description) { runs };
        cmd.SetAction(pr =>
        {
            int n = pr.GetValue(runs);
            if (n < 1) { stderr.WriteLine($"mthpsim calibrate {name}: --runs must be at least 1"); return 2; }
            LiveBench live;
            try { live = LiveBench.Open([]); }
            catch (MthpSim.Oracle.Live.OracleUnavailableException e)
            {
                stderr.WriteLine($"mthpsim calibrate {name}: live kernel unavailable: {e.Message}");
                return 3;
            }
            (string Header, string Report, int ExitCode) result;
            try { result = run(live, n, msg => stderr.WriteLine($"calibrate: {msg}")); }
            catch (OperationCanceledException) when (live.Interrupted is { } signal)
            {
                stderr.WriteLine($"interrupted by {signal}; THP settings restored");
                return SettingsGuard.ExitStatus(signal);
            }
            catch (InvalidOperationException e)
            {
                stderr.WriteLine($"mthpsim calibrate {name}: {e.Message}");
                return 1;
            }
            stdout.WriteLine($"mthpsim calibrate {name}: live kernel {live.KernelRelease}, {result.Header}");
            stdout.Write(result.Report);
            return result.ExitCode;
        });
        return cmd;
    }
}
