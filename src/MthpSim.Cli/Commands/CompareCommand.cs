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

    public static Command Create(TextWriter stdout, TextWriter stderr, Func<Stream> stdin)
    {
        var files = ScenarioFilesArgument.Create();
        var policies = new Option<string>("--policy") { Description = "Comma-separated collapse policies", DefaultValueFactory = _ => string.Join(',', Default) };
        var json = new Option<bool>("--json") { Description = "JSON instead of a table" };
        var csv = new Option<bool>("--csv") { Description = "CSV instead of a table" };
        var cmd = new Command("compare", "Run scenarios under several collapse policies and compare scan cost, collapses, bloat and creep") { files, policies, json, csv };
        cmd.SetAction(pr =>
        {
            // One output format: with both, which one the user gets would be a guess.
            if (pr.GetValue(json) && pr.GetValue(csv)) { stderr.WriteLine("mthpsim compare: --json and --csv cannot be used together"); return 2; }
            var names = pr.GetValue(policies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string known = string.Join(", ", MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Names);
            // An empty list would print nothing and exit 0, as if every scenario had been compared.
            if (names.Length == 0) { stderr.WriteLine($"mthpsim compare: --policy names no policy; known policies: {known}"); return 2; }
            foreach (var name in names)
                if (MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Create(name) is null)
                { stderr.WriteLine($"mthpsim compare: unknown policy {Echo.Quote(name)}; known policies: {known}"); return 2; }
            if (InputFile.RefuseStdinTwice("compare", pr.GetValue(files)!) is string twice) { stderr.WriteLine(twice); return 2; }
            var rows = new List<CompareRow>();
            foreach (var f in pr.GetValue(files)!)
            {
                if (InputFile.ReadScenario(f, stdin, out string error) is not string text) { stderr.WriteLine(error); return 2; }
                foreach (var policy in names)
                {
                    RunResult r;
                    try { r = ScenarioRunner.RunText(InputFile.Name(f), text, new RunOptions { Policy = policy }); }
                    catch (ArgumentException e) { stderr.WriteLine($"mthpsim: {e.Message}"); return 2; }
                    if (r.Invalid.Count > 0)
                    {
                        foreach (var d in r.Invalid) stderr.WriteLine(d);
                        return 2;
                    }
                    rows.Add(CompareRow.From(InputFile.Name(f), policy, r));
                }
            }
            stdout.Write(pr.GetValue(json) ? Json(rows) : pr.GetValue(csv) ? Csv(rows) : Table(rows));
            // A failed expectation under any policy fails the command, as it does for `run`;
            // stderr names each one so the table/JSON/CSV on stdout keeps its format.
            var failed = rows.Where(r => r.ExpectationsHeld < r.Expectations).ToList();
            foreach (var r in failed)
                stderr.WriteLine($"mthpsim compare: {r.File} under {r.Policy}: {r.Expectations - r.ExpectationsHeld} of {r.Expectations} expectations failed");
            return failed.Count > 0 ? 1 : 0;
        });
        return cmd;
    }

    /// <summary>One scenario under one policy.</summary>
    public sealed record CompareRow(string File, string Policy, long PmdWindows, long PtesExamined, double PtesPerWindow,
        long RangesTried, long CollapseAttempts, SortedDictionary<string, long> CollapsesBySize, SortedDictionary<string, long> MappedKbBySize,
        long BloatKb, long CreepEvents, int LongestCreepChain, int ExpectationsHeld, int Expectations)
    {
        public static CompareRow From(string file, string policy, RunResult r)
        {
            var m = r.CollapseMetrics!;
            int pmdOrder = m.Collapses.Length - 1;
            var collapses = new SortedDictionary<string, long>(StringComparer.Ordinal);
            var mapped = new SortedDictionary<string, long>(StringComparer.Ordinal);
            long pageKb = r.PageSizeKb;
            for (int o = 0; o <= pmdOrder; o++)
            {
                string size = $"{pageKb << o}kB";
                if (m.Collapses[o] != 0) collapses[size] = m.Collapses[o];
                if (o < r.MappedBytesByOrder.Length && r.MappedBytesByOrder[o] != 0) mapped[size] = r.MappedBytesByOrder[o] >> 10;
            }
            return new CompareRow(file, policy, m.PmdWindows, m.PtesExamined, m.PmdWindows == 0 ? 0 : (double)m.PtesExamined / m.PmdWindows,
                m.RangesTried, m.CollapseAttempts, collapses, mapped, m.BloatBytes >> 10, m.CreepEvents, m.LongestCreepChain,
                r.Expectations.Count(e => e.Passed), r.Expectations.Count);
        }
    }

    static string Sizes(SortedDictionary<string, long> d) =>
        d.Count == 0 ? "-" : string.Join(" ", d.OrderBy(kv => long.Parse(kv.Key[..^2], CultureInfo.InvariantCulture)).Select(kv => $"{kv.Key}:{kv.Value}"));

    static string Table(List<CompareRow> rows)
    {
        var sb = new StringBuilder();
        foreach (var group in rows.GroupBy(r => r.File))
        {
            sb.Append($"== {group.Key}\n");
            sb.Append($"{"policy",-20} {"windows",8} {"PTEs/win",9} {"ranges",7} {"attempts",9} {"bloat kB",9} {"creep",6} {"chain",6}  collapses by size / mapped kB by size  (expects)\n");
            foreach (var r in group)
            {
                sb.Append($"{r.Policy,-20} {r.PmdWindows,8} {r.PtesPerWindow,9:0.#} {r.RangesTried,7} {r.CollapseAttempts,9} {r.BloatKb,9} {r.CreepEvents,6} {r.LongestCreepChain,6}  ");
                sb.Append($"{Sizes(r.CollapsesBySize)} / {Sizes(r.MappedKbBySize)}  ({r.ExpectationsHeld}/{r.Expectations})\n");
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
                "collapses", "mapped_kb", "bloat_kb", "creep_events", "longest_creep_chain", "expectations_held", "expectations"]);
            foreach (var r in rows)
                csv.WriteRecord([r.File, r.Policy, N(r.PmdWindows), N(r.PtesExamined), r.PtesPerWindow.ToString("0.##", CultureInfo.InvariantCulture),
                    N(r.RangesTried), N(r.CollapseAttempts), Sizes(r.CollapsesBySize), Sizes(r.MappedKbBySize), N(r.BloatKb),
                    N(r.CreepEvents), N(r.LongestCreepChain), N(r.ExpectationsHeld), N(r.Expectations)]);
        }
        return text.ToString();

        static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
    }

    static string Json(List<CompareRow> rows) =>
        JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }) + "\n";
}
