using System.CommandLine;
using System.Globalization;
using MthpSim.Oracle.Fuzz;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim oracle fuzz [--scenarios N] [--seed S] [--ops M] [--start K] [--no-shrink] [--print] [--swap] [--cgroups]</c>: random scenarios run on the live
/// kernel and in the simulator; every confirmed disagreement is shrunk and printed ready for
/// tests/oracle/regressions/. Exit 0 when all agree, 1 on a confirmed disagreement or a scenario that
/// could not be compared, 3 when the live kernel cannot be used.
/// </summary>
public static class OracleFuzzCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenarios = new Option<int>("--scenarios") { Description = "Random scenarios to run", DefaultValueFactory = _ => 100 };
        var seed = new Option<ulong>("--seed") { Description = "Seed (same seed, same scenarios)", DefaultValueFactory = _ => 1 };
        var ops = new Option<int>("--ops") { Description = "Statements per scenario, before the closing expectations", DefaultValueFactory = _ => 40 };
        var start = new Option<int>("--start") { Description = "Index of the first scenario (to reproduce scenario K of a seed alone: --start K --scenarios 1)", DefaultValueFactory = _ => 0 };
        var noShrink = new Option<bool>("--no-shrink") { Description = "Print a disagreeing scenario whole instead of shrinking it (each shrinking step is a live run)" };
        var print = new Option<bool>("--print") { Description = "Print the scenarios' text instead of running them (no live kernel needed): a scenario not compared can be run alone with 'mthpsim oracle FILE'" };
        var swap = new Option<bool>("--swap") { Description = "Scenarios on a machine with zram swap, with pageout and cold (a stream of scenarios of their own)" };
        var cgroups = new Option<bool>("--cgroups") { Description = "Scenarios with memory cgroups: limits, moves, reclaim, OOM kills (a stream of scenarios of their own; with --swap, reclaim in the groups swaps)" };
        var cmd = new Command("fuzz", "Random scenarios on the live kernel and in the simulator; confirmed disagreements shrunk to regression scenarios") { scenarios, seed, ops, start, noShrink, print, swap, cgroups };
        // A signal during a live run is the oracle's own handler's (it restores the settings and the
        // fuzz run ends interrupted); between runs it ends the process, with nothing changed.
        cmd.SetAction((pr, cancel) => Task.FromResult(Run(pr, cancel)));
        return cmd;

        int Run(ParseResult pr, CancellationToken cancel)
        {
            int n = pr.GetValue(scenarios), m = pr.GetValue(ops);
            if (n <= 0) { stderr.WriteLine($"mthpsim oracle fuzz: --scenarios must be a positive number, got {n}"); return 2; }
            if (m <= 0) { stderr.WriteLine($"mthpsim oracle fuzz: --ops must be a positive number, got {m}"); return 2; }
            if (pr.GetValue(start) < 0) { stderr.WriteLine($"mthpsim oracle fuzz: --start must be 0 or more, got {pr.GetValue(start)}"); return 2; }
            var stream = (pr.GetValue(swap), pr.GetValue(cgroups)) switch
            {
                (true, true) => OracleFuzzStream.SwapCgroups,
                (true, false) => OracleFuzzStream.Swap,
                (false, true) => OracleFuzzStream.Cgroups,
                _ => OracleFuzzStream.Plain,
            };
            if (pr.GetValue(print))
            {
                for (int i = pr.GetValue(start); i < pr.GetValue(start) + n; i++)
                {
                    stdout.WriteLine($"# {OracleFuzzer.ScenarioName(pr.GetValue(seed), i, stream)}");
                    stdout.Write(OracleFuzzer.ScenarioText(pr.GetValue(seed), i, m, stream));
                }
                return 0;
            }
            var report = OracleFuzzer.Run(n, pr.GetValue(seed), m, shrink: !pr.GetValue(noShrink), start: pr.GetValue(start), cancel: cancel, stream: stream, progress: stderr.WriteLine, found: f =>
            {
                stdout.WriteLine($"DISAGREE scenario {f.Scenario}: {f.Observable}: live {f.Live}, simulator {f.Simulator}");
                stdout.WriteLine("# the smallest scenario that still disagrees (for tests/oracle/regressions/):");
                stdout.Write(f.Minimal);
                stdout.WriteLine();
            });
            if (report.InterruptedStatus is int status) return status;
            if (report.Unavailable != null)
            {
                stderr.WriteLine($"mthpsim oracle fuzz: live kernel unavailable: {report.Unavailable}");
                return 3;
            }
            foreach (var e in report.Errors) stdout.WriteLine($"ERROR {e}");
            stdout.WriteLine($"{"observable",-28} {"checked",9} {"agree",9} {"disagree",9} {"noise",7}");
            foreach (var (kind, t) in report.ByKind)
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind,-28} {t.Checked,9} {t.Agreed,9} {t.Disagreed,9} {t.Noise,7}"));
            bool clean = report.Findings.Count == 0 && report.Errors.Count == 0;
            stdout.WriteLine($"{(clean ? "AGREE" : "DISAGREE")}: {report.Scenarios} scenarios, {report.ByKind.Values.Sum(t => t.Checked)} expectations, " +
                $"{report.Findings.Count} confirmed disagreements, {report.Errors.Count} scenarios not compared");
            return clean ? 0 : 1;
        }
    }
}
