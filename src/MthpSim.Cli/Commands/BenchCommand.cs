using System.CommandLine;
using MthpSim.Bench;
using MthpSim.Bench.Live;
using MthpSim.Bench.Report;
using MthpSim.Cli.Progress;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim bench [--vs-kernel] [--runs N] [--json] [--filter SUBSTR] [--quick]</c>: the fixed
/// benchmark suite (issue 9). Exit 0 when it ran (targets missed are reported, not an error), 1 when
/// a pattern failed to run, 2 for an invalid command line, 3 when --vs-kernel cannot use the live
/// kernel, 128+N when signal N stopped it (what was measured is reported; THP settings restored).
/// </summary>
public static class BenchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, LongCommandHooks hooks)
    {
        var vsKernel = new Option<bool>("--vs-kernel") { Description = "Also run each touch pattern natively on the live kernel (root; THP settings saved and restored) and print the ratio" };
        var runs = new Option<int>("--runs") { Description = "Measured runs per pattern (after one warm-up); figures are medians", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "JSON (camelCase keys) instead of a table" };
        var filter = new Option<string?>("--filter") { Description = "Only patterns whose name contains this text" };
        var quick = new Option<bool>("--quick") { Description = "Small sizes (16 MiB regions, 1,000 VMAs): a quick check that every pattern runs" };
        var cmd = new Command("bench", "Measure the simulator on a fixed suite of patterns (ns per unit, host bytes per page, allocations), optionally against the live kernel")
        {
            vsKernel, runs, json, filter, quick,
        };
        cmd.SetAction(pr =>
        {
            int n = pr.GetValue(runs);
            if (n < 1) { stderr.WriteLine("mthpsim bench: --runs must be at least 1"); return 2; }
            var scale = pr.GetValue(quick) ? BenchScale.Quick : BenchScale.Full;
            var patterns = BenchSuite.Create(scale, BenchSuite.FindScenariosDir());
            if (pr.GetValue(filter) is { } f)
            {
                patterns = patterns.Where(p => p.Name.Contains(f, StringComparison.Ordinal)).ToList();
                if (patterns.Count == 0) { stderr.WriteLine($"mthpsim bench: no pattern name contains '{f}'"); return 2; }
            }
            LiveBench? live = null;
            if (pr.GetValue(vsKernel))
            {
                try { live = LiveBench.Open(patterns); }
                catch (OracleUnavailableException e)
                {
                    stderr.WriteLine($"mthpsim bench: live kernel unavailable: {e.Message}");
                    return 3;
                }
            }
            BenchReport report;
            using var interruption = hooks.Interruptions();
            int steps = BenchRunner.Steps(patterns.Count, n);
            try
            {
                // On a terminal a progress line (pattern runs done, rate, time left); a log gets a line per round.
                report = hooks.Progress.Run(scope =>
                {
                    var line = scope.Add("bench", steps, "pattern runs");
                    return BenchRunner.Run(patterns, scale, n, live, hooks.Progress.Enabled ? null : msg => stderr.WriteLine($"bench: {msg}"),
                        (done, name) => { line.Set(done); line.Describe($"bench: {name}"); }, interruption.Token);
                });
            }
            catch (OracleUnavailableException e)
            {
                stderr.WriteLine($"mthpsim bench: live kernel unavailable: {e.Message}");
                return 3;
            }
            catch (InvalidOperationException e)
            {
                // A pattern that could not run (its setup failed, or the live program did).
                stderr.WriteLine($"mthpsim bench: {e.Message}");
                return 1;
            }
            stdout.Write(pr.GetValue(json) ? BenchText.Json(report) : BenchText.Table(report));
            if (!report.Interrupted) return 0;
            // The live side's guard saw the signal first when it came during a live measurement.
            var signal = live?.Interrupted ?? interruption.Signal ?? System.Runtime.InteropServices.PosixSignal.SIGINT;
            stderr.WriteLine($"interrupted by {signal}: {report.Patterns.Count} of {patterns.Count} patterns measured"
                             + (live != null ? "; THP settings restored" : ""));
            return SettingsGuard.ExitStatus(signal);
        });
        return cmd;
    }
}
