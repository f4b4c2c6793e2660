using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim compare FILE --policy a,b,...</c>: the same scenario under each collapse design, with
/// scan cost, outcome, bloat and creep side by side (table, --json or --csv).
/// </summary>
public static class CompareCommand
{
    static readonly string[] Default = [.. MthpSim.Core.Khugepaged.Policies.CollapsePolicies.BuiltIn];

    public static Command Create(TextWriter stdout, TextWriter stderr, Func<Stream> stdin, MthpSim.Cli.Progress.LongCommandHooks? hooks = null)
    {
        hooks ??= MthpSim.Cli.Progress.LongCommandHooks.None;
        var files = ScenarioFilesArgument.Create();
        var policies = new Option<string?>("--policy") { Description = $"Comma-separated collapse policies (default: {string.Join(',', Default)}, then those of --policy-assembly)" };
        var assemblies = PolicyAssemblyOption.Create();
        var json = new Option<bool>("--json") { Description = "JSON instead of a table (schema in docs/json-output.md)" };
        var csv = new Option<bool>("--csv") { Description = "CSV instead of a table" };
        var cmd = new Command("compare", "Run scenarios under several collapse policies and compare scan cost, collapses, bloat and creep") { files, policies, json, csv, assemblies };
        cmd.SetAction(pr =>
        {
            // One output format: with both, which one the user gets would be a guess.
            if (pr.GetValue(json) && pr.GetValue(csv)) { stderr.WriteLine("mthpsim compare: --json and --csv cannot be used together"); return 2; }
            if (PolicyAssemblyOption.Load(pr, assemblies, "compare", stderr) is not { } loaded) return 2;
            var names = pr.GetValue(policies) is string list
                ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [.. Default, .. loaded.Except(Default)];
            string known = string.Join(", ", MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Names);
            // An empty list would print nothing and exit 0, as if every scenario had been compared.
            if (names.Length == 0) { stderr.WriteLine($"mthpsim compare: --policy names no policy; known policies: {known}"); return 2; }
            foreach (var name in names)
                if (MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Create(name) is null)
                { stderr.WriteLine($"mthpsim compare: unknown policy {Echo.Quote(name)}; known policies: {known}"); return 2; }
            if (InputFile.RefuseStdinTwice("compare", pr.GetValue(files)!) is string twice) { stderr.WriteLine(twice); return 2; }
            var rows = new List<CompareRow>();
            var invalid = new List<MthpSim.Scenario.Syntax.Diagnostic>();
            var paths = pr.GetValue(files)!;
            using var interruption = hooks.Interruptions();
            var errors = hooks.Progress.Enabled ? new StringWriter() : stderr;   // not torn by the redrawing
            hooks.Progress.Run(scope =>
            {
                var runsLine = scope.Add("compare", paths.Length * names.Length, "runs");
                var statementsLine = scope.Add(InputFile.ShortName(paths[0]), 1, "statements");
                int runs = 0;
                foreach (var f in paths)
                {
                    if (interruption.Token.IsCancellationRequested) break;
                    // An invalid file is reported and skipped: the others are still compared (exit 2 at the end).
                    if (InputFile.ReadScenario(f, stdin, out string error) is not string text) { errors.WriteLine(error); invalid.Add(new(InputFile.Name(f), 0, 0, error)); runsLine.Set(runs += names.Length); continue; }
                    foreach (var policy in names)
                    {
                        if (interruption.Token.IsCancellationRequested) break;
                        statementsLine.Restart($"{InputFile.ShortName(f)} ({policy})", 1);   // the name alone: a long path would crowd out the rate
                        RunResult r;
                        var options = new RunOptions { Policy = policy, Cancel = interruption.Token, StatementDone = hooks.Progress.Enabled ? statementsLine.Counted : null };
                        try { r = ScenarioRunner.RunText(InputFile.Name(f), text, options); }
                        catch (ArgumentException e) { errors.WriteLine($"mthpsim: {e.Message}"); invalid.Add(new(InputFile.Name(f), 0, 0, e.Message)); break; }
                        if (r.Invalid.Count > 0)
                        {
                            foreach (var d in r.Invalid) errors.WriteLine(d);
                            invalid.AddRange(r.Invalid);
                            runsLine.Set(runs += names.Length);
                            break;
                        }
                        // A run cut short by a signal is not a result to compare.
                        if (r.Interrupted) break;
                        rows.Add(CompareRow.From(InputFile.Name(f), policy, r));
                        runsLine.Set(++runs);
                    }
                }
                return 0;
            });
            if (errors != stderr) stderr.Write(errors.ToString());
            bool interrupted = interruption.Signal != null;
            stdout.Write(pr.GetValue(json) ? Json(rows, invalid, interrupted) : pr.GetValue(csv) ? Csv(rows) : Table(rows));
            if (interrupted)
            {
                int total = paths.Length * names.Length;
                stderr.WriteLine($"interrupted: {rows.Count} of {total} runs (files x policies) finished, {rows.Count(r => r.ExpectationsHeld == r.Expectations)} with every expectation held; {total - rows.Count} not run");
                return interruption.ExitStatus;
            }
            // A failed expectation under any policy fails the command, as it does for `run`;
            // stderr names each one so the table/JSON/CSV on stdout keeps its format.
            var failed = rows.Where(r => r.ExpectationsHeld < r.Expectations).ToList();
            foreach (var r in failed)
                stderr.WriteLine($"mthpsim compare: {r.File} under {r.Policy}: {r.Expectations - r.ExpectationsHeld} of {r.Expectations} expectations failed");
            return invalid.Count > 0 ? 2 : failed.Count > 0 ? 1 : 0;
        });
        return cmd;
    }

    /// <summary>One scenario under one policy: the fields of <see cref="CollapseSummary"/>, flat, with the expectations.</summary>
    public sealed record CompareRow(string File, string Policy, long PmdWindows, long PtesExamined, double PtesPerWindow,
        long RangesTried, long CollapseAttempts, SortedDictionary<string, long> CollapsesBySize, SortedDictionary<string, long> MappedKbBySize,
        long BloatKb, long CreepEvents, int LongestCreepChain, int ExpectationsHeld, int Expectations,
        long WastedAttempts, double CpuMs, double LockHoldMs, IReadOnlyList<MemorySample> Memory, long? TlbEntries)
    {
        public static CompareRow From(string file, string policy, RunResult r)
        {
            var s = CollapseSummary.From(r);
            return new CompareRow(file, policy, s.PmdWindows, s.PtesExamined, s.PtesPerWindow, s.RangesTried, s.CollapseAttempts,
                s.CollapsesBySize, s.MappedKbBySize, s.BloatKb, s.CreepEvents, s.LongestCreepChain,
                r.Expectations.Count(e => e.Passed), r.Expectations.Count, s.WastedAttempts, s.CpuMs, s.LockHoldMs, s.Memory, s.TlbEntries);
        }
    }

    /// <summary>At most eight samples for a person: the first, the last, and evenly between.</summary>
    static string MemoryLine(IReadOnlyList<MemorySample> s)
    {
        if (s.Count == 0) return "-";
        var picked = s.Count <= 8 ? s : [.. Enumerable.Range(0, 8).Select(i => s[(int)Math.Round(i * (s.Count - 1) / 7.0)])];
        return string.Join(" ", picked.Select(x => $"{x.AnonKb}/{x.BloatKb}"));
    }

    static string Sizes(SortedDictionary<string, long> d) =>
        d.Count == 0 ? "-" : string.Join(" ", d.OrderBy(kv => long.Parse(kv.Key[..^2], CultureInfo.InvariantCulture)).Select(kv => $"{kv.Key}:{kv.Value}"));

    static string Table(List<CompareRow> rows)
    {
        var sb = new StringBuilder();
        foreach (var group in rows.GroupBy(r => r.File))
        {
            sb.Append($"== {group.Key}\n");
            int width = Math.Max(20, group.Max(r => r.Policy.Length));   // the as-posted variants' names are longer
            sb.Append($"{"policy".PadRight(width)} {"windows",8} {"PTEs/win",9} {"ranges",7} {"attempts",9} {"wasted",7} {"cpu ms",8} {"lock ms",8} {"bloat kB",9} {"creep",6} {"chain",6} {"TLB",7}  collapses by size / mapped kB by size  (expects)\n");
            foreach (var r in group)
            {
                sb.Append($"{r.Policy.PadRight(width)} {r.PmdWindows,8} {r.PtesPerWindow,9:0.#} {r.RangesTried,7} {r.CollapseAttempts,9} {r.WastedAttempts,7} {r.CpuMs,8:0.00} {r.LockHoldMs,8:0.00} {r.BloatKb,9} {r.CreepEvents,6} {r.LongestCreepChain,6} {(r.TlbEntries is long t ? t.ToString(CultureInfo.InvariantCulture) : "-"),7}  ");
                sb.Append($"{Sizes(r.CollapsesBySize)} / {Sizes(r.MappedKbBySize)}  ({r.ExpectationsHeld}/{r.Expectations})\n");
            }
            if (group.Any(r => r.Memory.Count > 0))
            {
                sb.Append("anon kB / bloat kB at the end of each full scan:\n");
                foreach (var r in group) sb.Append($"  {r.Policy.PadRight(width)} {MemoryLine(r.Memory)}\n");
            }
        }
        return sb.ToString();
    }

    /// <summary>RFC 4180 (CRLF line ends; a field holding a comma, a quote or a line break is quoted,
    /// as a file name may), written by CsvHelper rather than by hand.</summary>
    static string Csv(List<CompareRow> rows)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(text, CsvWriterOptions.Default, leaveOpen: true))
        {
            csv.WriteHeader(["file", "policy", "pmd_windows", "ptes_examined", "ptes_per_window", "ranges_tried", "collapse_attempts",
                "collapses", "mapped_kb", "bloat_kb", "creep_events", "longest_creep_chain", "expectations_held", "expectations",
                "wasted_attempts", "cpu_ms", "lock_hold_ms", "anon_kb_by_full_scan", "tlb_entries"]);
            foreach (var r in rows)
                csv.WriteRecord([r.File, r.Policy, N(r.PmdWindows), N(r.PtesExamined), r.PtesPerWindow.ToString("0.##", CultureInfo.InvariantCulture),
                    N(r.RangesTried), N(r.CollapseAttempts), Sizes(r.CollapsesBySize), Sizes(r.MappedKbBySize), N(r.BloatKb),
                    N(r.CreepEvents), N(r.LongestCreepChain), N(r.ExpectationsHeld), N(r.Expectations),
                    N(r.WastedAttempts), r.CpuMs.ToString("0.###", CultureInfo.InvariantCulture), r.LockHoldMs.ToString("0.###", CultureInfo.InvariantCulture),
                    string.Join(" ", r.Memory.Select(m => N(m.AnonKb))), r.TlbEntries is long t ? N(t) : ""]);
        }
        return text.ToString();

        static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>docs/schemas/compare.schema.json: camelCase keys, as every command's JSON.</summary>
    static string Json(List<CompareRow> rows, List<MthpSim.Scenario.Syntax.Diagnostic> invalid, bool interrupted) =>
        JsonSerializer.Serialize(new
        {
            interrupted,
            rows,
            invalid = invalid.Select(d => new { file = d.File, line = d.Line, column = d.Column, message = d.Message }),
        }, ResultReport.JsonOptions) + "\n";
}
