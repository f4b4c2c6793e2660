using System.CommandLine;
using MthpSim.Bench;
using MthpSim.Bench.Live;
using MthpSim.Bench.Report;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim bench [--vs-kernel] [--runs N] [--json] [--filter SUBSTR] [--quick]</c>: the fixed
/// benchmark suite (issue 9). Exit 0 when it ran (targets missed are reported, not an error), 1 when
/// a pattern failed to run, 2 for an invalid command line, 3 when --vs-kernel cannot use the live
/// kernel, 128+N when a signal interrupted a live measurement (THP settings restored).
/// </summary>
public static class BenchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
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
            try
            {
                report = BenchRunner.Run(patterns, scale, n, live, msg => stderr.WriteLine($"bench: {msg}"));
            }
            catch (OracleUnavailableException e)
            {
                stderr.WriteLine($"mthpsim bench: live kernel unavailable: {e.Message}");
                return 3;
            }
            catch (OperationCanceledException e) when (live?.Interrupted is { } signal)
            {
                stderr.WriteLine($"mthpsim bench: {e.Message}");
                return SettingsGuard.ExitStatus(signal);
            }
            catch (InvalidOperationException e)
            {
                // A pattern that could not run (its setup failed, or the live program did).
                stderr.WriteLine($"mthpsim bench: {e.Message}");
                return 1;
            }
            stdout.Write(pr.GetValue(json) ? BenchText.Json(report) : BenchText.Table(report));
            return 0;
        });
        return cmd;
    }
}
