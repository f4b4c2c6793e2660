using System.CommandLine;
using System.Reflection;
using MthpSim.Cli.Progress;
using MthpSim.Scenario.Syntax;
using MthpSim.Sweep.Grid;
using MthpSim.Sweep.Results;
using MthpSim.Sweep.Run;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim sweep GRID</c>: every cell of a grid (inputs × settings × policies × machine options),
/// one JSON line per cell, resumable, shardable across a cluster's job array; <c>sweep merge</c>
/// combines the shards (docs/sweep.md).
/// </summary>
public static class SweepCommand
{
    /// <summary>The version written into every result: results of two builds are never mixed.</summary>
    public static string Version => typeof(SweepCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static Command Create(TextWriter stdout, TextWriter stderr, LongCommandHooks? hooks = null)
    {
        hooks ??= LongCommandHooks.None;
        var grid = new Argument<string>("GRID") { Description = "A grid file: the scenarios or traces, and the axes to vary (docs/sweep.md)" };
        var output = new Option<string?>("-o", "--output") { HelpName = "FILE", Description = "The results file (JSON lines; default: GRID's name with .jsonl, or .shard-I-of-N.jsonl, in the current folder)" };
        var jobs = new Option<int>("--jobs") { HelpName = "N", Description = "Cells run at once (0: one per processor); the results do not depend on it", DefaultValueFactory = _ => 0 };
        var shard = new Option<string?>("--shard") { HelpName = "I/N", Description = "I/N: run only cells whose index is I modulo N (e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT); merge the shards with 'sweep merge'" };
        var retry = new Option<bool>("--retry-errors") { Description = "Run again the cells whose recorded outcome is an error (every other finished cell is skipped)" };
        var list = new Option<bool>("--list") { Description = "Print the cells (index and key) this run would own, and run nothing" };
        var assemblies = PolicyAssemblyOption.Create();
        var cmd = new Command("sweep", "Run every cell of a grid of settings, policies and machine options over scenarios or traces; one JSON line per cell, resumable and shardable")
        {
            grid, output, jobs, shard, retry, list, assemblies,
        };
        cmd.Subcommands.Add(CreateMerge(stdout, stderr));
        cmd.SetAction(pr =>
        {
            if (PolicyAssemblyOption.Load(pr, assemblies, "sweep", stderr) == null) return 2;
            if (pr.GetValue(jobs) < 0) { stderr.WriteLine($"mthpsim sweep: --jobs must be 0 or more, got {pr.GetValue(jobs)}"); return 2; }
            Shard? part = null;
            if (pr.GetValue(shard) is string s)
            {
                if (!Shard.TryParse(s, out var p, out string why)) { stderr.WriteLine($"mthpsim sweep: {why}"); return 2; }
                part = p;
            }
            string gridPath = pr.GetValue(grid)!;
            SweepGrid g;
            try { g = SweepGrid.Load(gridPath); }
            catch (GridException e) { stderr.WriteLine($"mthpsim sweep: {Echo.Escape(e.Message)}"); return 2; }
            if (pr.GetValue(list))
            {
                foreach (var c in g.Cells().Where(c => part is not { } q || q.Owns(c.Index))) stdout.WriteLine($"{c.Index} {c.Key}");
                return 0;
            }
            string results = pr.GetValue(output) ?? DefaultResults(gridPath, part);
            int jobCount = pr.GetValue(jobs) == 0 ? Environment.ProcessorCount : pr.GetValue(jobs);
            using var interruption = hooks.Interruptions();
            SweepSummary summary;
            try
            {
                summary = hooks.Progress.Run(scope =>
                {
                    ProgressLine? line = null;
                    return SweepRunner.Run(g, new SweepOptions
                    {
                        ResultsPath = results, Version = Version, Jobs = jobCount, Shard = part, RetryErrors = pr.GetValue(retry), Cancel = interruption.Token,
                        CellDone = (done, total, r) =>
                        {
                            line ??= scope.Add("sweep", total, "cells");
                            line.Set(done);
                            if (r.Outcome == "error") stderr.WriteLine($"mthpsim sweep: cell {r.Cell} ({r.Key}): {FirstLine(r.Error)}");
                        },
                    });
                });
            }
            catch (InvalidDataException e) { stderr.WriteLine($"mthpsim sweep: {Echo.Escape(e.Message)}"); return 2; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { stderr.WriteLine($"mthpsim sweep: {results}: {e.Message}"); return 2; }
            foreach (var n in summary.Notes) stderr.WriteLine($"mthpsim sweep: {n}");
            string scope = part is { } sh ? $"shard {sh} of {g.CellCount} cells: {summary.Cells} cells" : $"{summary.Cells} cells";
            stdout.WriteLine($"sweep {gridPath}: {scope} ({g.Inputs.Count} inputs{string.Concat(g.Axes.Select(a => $" x {a.Values.Count} {a.Label}"))})");
            stdout.WriteLine($"ran {summary.Ran}, {summary.AlreadyDone} done before: {summary.Pass} pass, {summary.Fail} with a failed expectation, {summary.Errors} error");
            stdout.WriteLine($"results: {results}");
            if (summary.Interrupted)
            {
                int left = summary.Cells - summary.Pass - summary.Fail - summary.Errors;
                stderr.WriteLine($"interrupted: {left} of {summary.Cells} cells not run; run the same command again to finish them");
                return interruption.ExitStatus;
            }
            return summary.Errors > 0 ? 1 : 0;
        });
        return cmd;
    }

    static Command CreateMerge(TextWriter stdout, TextWriter stderr)
    {
        var grid = new Argument<string>("GRID") { Description = "The grid the shards ran" };
        var inputs = new Argument<string[]>("RESULTS") { Description = "The shards' results files", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("-o", "--output") { HelpName = "FILE", Description = "The merged results file", Required = true };
        var cmd = new Command("merge", "Combine the results files of a sweep's shards into one, in cell order; exit 1 and list them when cells are missing") { grid, inputs, output };
        cmd.SetAction(pr =>
        {
            SweepGrid g;
            try { g = SweepGrid.Load(pr.GetValue(grid)!); }
            catch (GridException e) { stderr.WriteLine($"mthpsim sweep merge: {Echo.Escape(e.Message)}"); return 2; }
            MergeOutcome m;
            try { m = SweepMerge.Merge(g, pr.GetValue(inputs)!, pr.GetValue(output)!); }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { stderr.WriteLine($"mthpsim sweep merge: {Echo.Escape(e.Message)}"); return 2; }
            foreach (var n in m.Notes) stderr.WriteLine($"mthpsim sweep merge: {n}");
            stdout.WriteLine($"merged {m.Merged} of {g.CellCount} cells into {pr.GetValue(output)}");
            if (m.Missing.Count == 0) return 0;
            stdout.WriteLine($"missing {m.Missing.Count} cells:");
            foreach (var c in m.Missing.Take(50)) stdout.WriteLine($"  {c.Index} {c.Key}");
            if (m.Missing.Count > 50) stdout.WriteLine($"  ... and {m.Missing.Count - 50} more");
            return 1;
        });
        return cmd;
    }

    static string DefaultResults(string grid, Shard? shard) =>
        Path.GetFileNameWithoutExtension(grid) + (shard is { } s ? $".shard-{s.Index}-of-{s.Count}" : "") + ".jsonl";

    static string FirstLine(string? s) => s == null ? "" : s.Split('\n')[0];
}
