using System.CommandLine;
using MthpSim.Cli.Progress;
using MthpSim.Scenario.Fuzz;

namespace MthpSim.Cli.Commands;

/// <summary><c>mthpsim fuzz --ops N --seed S</c>: random scenarios with the invariant checker and the content record checked after every step.</summary>
public static class FuzzCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, LongCommandHooks? hooks = null)
    {
        hooks ??= LongCommandHooks.None;
        var ops = new Option<long>("--ops") { Description = "Operations to run", DefaultValueFactory = _ => 100_000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed (same seed, same scenarios)", DefaultValueFactory = _ => 1 };
        var episode = new Option<int>("--episode-ops") { Description = "Operations per episode (a fresh machine each)", DefaultValueFactory = _ => 500 };
        var jobs = new Option<int>("--jobs") { Description = "Episodes run at once (0: one per processor); the report does not depend on it", DefaultValueFactory = _ => 0 };
        var cmd = new Command("fuzz", "Run random scenarios with the invariant checker after every statement; exit 1 and print a shrunk scenario on failure, 130/143 when interrupted") { ops, seed, episode, jobs };
        cmd.SetAction(pr =>
        {
            long total = pr.GetValue(ops);
            // A count of zero or less would print PASS for nothing (--ops) or never end (--episode-ops).
            if (total <= 0) return Refuse(stderr, "--ops", total);
            if (pr.GetValue(episode) <= 0) return Refuse(stderr, "--episode-ops", pr.GetValue(episode));
            if (pr.GetValue(jobs) < 0) { stderr.WriteLine($"mthpsim fuzz: --jobs must be 0 or more, got {pr.GetValue(jobs)}"); return 2; }
            using var interruption = hooks.Interruptions();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan running = default;
            // Progress only on a terminal (operations done, rate, time left); a log gets the summary line alone.
            var report = hooks.Progress.Run(scope =>
            {
                var line = scope.Add("fuzz", total, "operations");
                return Fuzzer.Run(total, pr.GetValue(seed), pr.GetValue(episode), jobs: pr.GetValue(jobs), cancel: interruption.Token, progress: done =>
                {
                    running = clock.Elapsed;   // episodes only: a failure's shrinking comes after the last call
                    line.Set(done);
                });
            });
            // The rate varies from run to run, so it goes to stderr: stdout stays the same for a seed.
            double seconds = running.TotalSeconds;
            stderr.WriteLine(FormattableString.Invariant($"fuzz: {report.Ops} operations in {seconds:F1} s ({report.Ops / Math.Max(seconds, 1e-9):F0} operations/s)"));
            if (report.Interrupted)
            {
                stdout.WriteLine($"INTERRUPTED after {report.Ops} operations in {report.Episodes} episodes: no invariant violation, no lost content so far");
                stdout.Write(report.Tally.Describe());
                stderr.WriteLine($"interrupted: {report.Ops} of {total} operations run ({report.Episodes} episodes), no failure; {total - report.Ops} not run");
                return interruption.ExitStatus;
            }
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
