using System.CommandLine;
using MthpSim.Scenario.Fuzz;

namespace MthpSim.Cli.Commands;

/// <summary><c>mthpsim fuzz --ops N --seed S</c>: random scenarios with the invariant checker and the content record checked after every step.</summary>
public static class FuzzCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var ops = new Option<long>("--ops") { Description = "Operations to run", DefaultValueFactory = _ => 100_000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed (same seed, same scenarios)", DefaultValueFactory = _ => 1 };
        var episode = new Option<int>("--episode-ops") { Description = "Operations per episode (a fresh machine each)", DefaultValueFactory = _ => 500 };
        var jobs = new Option<int>("--jobs") { Description = "Episodes run at once (0: one per processor); the report does not depend on it", DefaultValueFactory = _ => 0 };
        var cmd = new Command("fuzz", "Run random scenarios with the invariant checker after every statement; exit 1 and print a shrunk scenario on failure") { ops, seed, episode, jobs };
        cmd.SetAction(pr =>
        {
            long total = pr.GetValue(ops);
            // A count of zero or less would print PASS for nothing (--ops) or never end (--episode-ops).
            if (total <= 0) return Refuse(stderr, "--ops", total);
            if (pr.GetValue(episode) <= 0) return Refuse(stderr, "--episode-ops", pr.GetValue(episode));
            if (pr.GetValue(jobs) < 0) { stderr.WriteLine($"mthpsim fuzz: --jobs must be 0 or more, got {pr.GetValue(jobs)}"); return 2; }
            long nextReport = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan running = default;
            var report = Fuzzer.Run(total, pr.GetValue(seed), pr.GetValue(episode), jobs: pr.GetValue(jobs), progress: done =>
            {
                running = clock.Elapsed;   // episodes only: a failure's shrinking comes after the last call
                if (done < nextReport) return;
                stderr.WriteLine($"fuzz: {done} of {total} operations");
                nextReport = done + Math.Max(total / 10, 1);
            });
            // The rate varies from run to run, so it goes to stderr: stdout stays the same for a seed.
            double seconds = running.TotalSeconds;
            stderr.WriteLine(FormattableString.Invariant($"fuzz: {report.Ops} operations in {seconds:F1} s ({report.Ops / Math.Max(seconds, 1e-9):F0} operations/s)"));
            if (report.Failure is { } f)
            {
                stdout.WriteLine($"FAIL after {report.Ops} operations ({report.Episodes} episodes), episode seed {f.EpisodeSeed}:");
                stdout.WriteLine(f.Reason);
                stdout.WriteLine($"# shrunk from {f.OriginalLines} lines to:");
                stdout.Write(f.Scenario);
                return 1;
            }
            stdout.WriteLine($"PASS {report.Ops} operations in {report.Episodes} episodes: no invariant violation, no lost content");
            stdout.Write(report.Tally.Describe());
            return 0;
        });
        return cmd;
    }

    static int Refuse(TextWriter stderr, string option, long value)
    {
        stderr.WriteLine($"mthpsim fuzz: {option} must be a positive number, got {value}");
        return 2;
    }
}
