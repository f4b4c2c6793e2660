using System.Globalization;
using System.Text.Json.Nodes;
using MthpSim.Core;
using MthpSim.Core.Khugepaged.Policies;
using MthpSim.Core.Vma;
using MthpSim.Report.Html;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Report.Scenarios;

/// <summary>
/// The report of one scenario: memory and counters over the run (sampled after every statement),
/// each process's address space at the end coloured by folio size, memory by folio size, and the
/// scenario under each collapse design side by side (unless it chooses one itself).
/// </summary>
public static class ScenarioReport
{
    /// <summary>Counters followed over the run, besides memory.</summary>
    static readonly string[] Followed = ["pgfault", "thp_fault_alloc", "thp_fault_fallback", "thp_collapse_alloc", "thp_split_page", "pswpout"];

    /// <summary>Rects the address-space map draws at most (runs beyond are summarised in a note).</summary>
    const int MaxRuns = 20_000;

    public static ReportDocument Build(string name, string text, IReadOnlyList<string>? policies = null)
    {
        var samples = new JsonArray();
        var counters = new JsonArray();
        Kernel? machine = null;
        int statement = 0;
        var result = ScenarioRunner.RunText(name, text, new RunOptions
        {
            AfterStatement = (k, stmt) =>
            {
                machine = k;
                statement++;
                long pageKb = k.Geo.PageSize >> 10;
                foreach (var mm in k.Processes)
                {
                    long anon = mm.Rss[(int)RssMember.AnonPages] * pageKb, shmem = mm.Rss[(int)RssMember.ShmemPages] * pageKb;
                    samples.Add(new JsonObject { ["statement"] = statement, ["line"] = stmt.Span.Line, ["time ms"] = k.NowMs, ["process"] = mm.Name, ["kB"] = anon + shmem, ["memory"] = $"{mm.Name} Rss" });
                }
                foreach (var c in Followed)
                    if (k.Vmstat(c) is long v) counters.Add(new JsonObject { ["statement"] = statement, ["line"] = stmt.Span.Line, ["time ms"] = k.NowMs, ["counter"] = c, ["value"] = v });
                foreach (var f in k.SysfsFiles(includeStats: true).Where(f => f.EndsWith("/stats/nr_anon", StringComparison.Ordinal)))
                    if (long.TryParse(k.SysfsRead(f), CultureInfo.InvariantCulture, out long n) && n > 0)
                        counters.Add(new JsonObject { ["statement"] = statement, ["line"] = stmt.Span.Line, ["time ms"] = k.NowMs, ["counter"] = f.Split('/')[0] + " nr_anon", ["value"] = n });
            },
        });
        if (result.Invalid.Count > 0) throw new ArgumentException(string.Join("\n", result.Invalid));

        var doc = new ReportDocument($"mthpsim: {name}");
        string verdict = result.Aborted != null ? "aborted" : result.Passed ? "passed" : "failed";
        doc.Paragraph($"{result.StatementsRun} of {result.Statements} statements ran under {result.PolicyName}; {result.Expectations.Count(e => e.Passed)} of {result.Expectations.Count} expectations hold ({verdict}).");
        if (result.Aborted != null) doc.Paragraph(result.Aborted);
        foreach (var f in result.Failures) doc.Paragraph(f.Describe());

        bool timed = samples.Any(s => s!["time ms"]!.GetValue<long>() > 0);
        string xField = timed ? "time ms" : "statement";
        doc.Heading("Memory over the run");
        doc.Paragraph(timed ? "Sampled after every statement, against the simulated clock." : "Sampled after every statement (the scenario does not advance the simulated clock).");
        if (samples.Count > 0) doc.Chart(Charts.Lines("Rss (anonymous and shmem) per process", samples, xField, "quantitative", "kB", "process", null));
        if (counters.Count > 0) doc.Chart(Charts.Lines("counters", counters, xField, "quantitative", "value", "counter", null));

        if (machine != null)
        {
            doc.Heading("Address space at the end");
            var (map, order, truncated) = AddressMap(machine);
            if (map.Count > 0) doc.Chart(Charts.Ranges("what maps each VMA, by folio size", map, "from kB", "to kB", "VMA", "mapped by", order, "offset in the VMA (kB)"));
            else doc.Paragraph("No process maps anything at the end.");
            if (truncated > 0) doc.Paragraph($"{truncated} further runs of pages are not drawn (the map draws at most {MaxRuns}).");
        }

        doc.Heading("Memory by folio size at the end");
        var sizes = new JsonArray();
        for (int o = 0; o < result.MappedBytesByOrder.Length; o++)
            if (result.MappedBytesByOrder[o] > 0) sizes.Add(new JsonObject { ["folio size"] = SizeName(result.PageSizeKb << o), ["kB mapped"] = result.MappedBytesByOrder[o] >> 10 });
        if (sizes.Count > 0) doc.Chart(Charts.Bars("mapped memory by folio size", sizes, "folio size", "kB mapped", xOrder: sizes.Select(s => s!["folio size"]!.GetValue<string>())));
        else doc.Paragraph("Nothing is mapped at the end.");

        Compare(doc, name, text, policies);
        return doc;
    }

    /// <summary>The scenario under each design, as <c>mthpsim compare</c> tabulates it, as charts.</summary>
    static void Compare(ReportDocument doc, string name, string text, IReadOnlyList<string>? policies)
    {
        doc.Heading("Under each collapse design");
        if (ScenarioParser.Parse(name, text).Statements.OfType<PolicyStmt>().FirstOrDefault() is { } own)
        {
            if (policies != null) throw new ArgumentException($"--policy: {name}:{own.Span.Line} chooses the collapse design itself, so the report does not compare designs");
            doc.Paragraph("The scenario chooses its collapse design itself, so it is not compared across designs.");
            return;
        }
        var rows = new List<(string Policy, CollapseSummary S)>();
        foreach (var p in policies ?? CollapsePolicies.BuiltIn)
        {
            var r = ScenarioRunner.RunText(name, text, new RunOptions { Policy = p });
            if (r.CollapseMetrics != null && r.Invalid.Count == 0) rows.Add((p, CollapseSummary.From(r)));
        }
        var order = rows.Select(r => r.Policy).ToList();
        doc.Table(["policy", "collapses", "PTEs examined", "attempts", "wasted", "bloat kB", "creep", "CPU ms", "lock ms"],
            rows.Select(r => (IReadOnlyList<string>)[r.Policy, N(r.S.CollapsesBySize.Values.Sum()), N(r.S.PtesExamined), N(r.S.CollapseAttempts), N(r.S.WastedAttempts),
                N(r.S.BloatKb), N(r.S.CreepEvents), r.S.CpuMs.ToString("0.###", CultureInfo.InvariantCulture), r.S.LockHoldMs.ToString("0.###", CultureInfo.InvariantCulture)]));
        var collapses = new JsonArray();
        foreach (var (p, s) in rows)
            foreach (var (size, n) in s.CollapsesBySize) collapses.Add(new JsonObject { ["policy"] = p, ["folio size"] = size, ["collapses"] = n });
        if (collapses.Count > 0) doc.Chart(Charts.Bars("collapses by folio size", collapses, "policy", "collapses", "folio size", order));
        var mapped = new JsonArray();
        foreach (var (p, s) in rows)
            foreach (var (size, kb) in s.MappedKbBySize) mapped.Add(new JsonObject { ["policy"] = p, ["folio size"] = size, ["kB mapped"] = kb });
        if (mapped.Count > 0) doc.Chart(Charts.Bars("memory by folio size at the end", mapped, "policy", "kB mapped", "folio size", order));
        var cost = new JsonArray();
        foreach (var (p, s) in rows)
        {
            cost.Add(new JsonObject { ["policy"] = p, ["what"] = "bloat kB", ["value"] = s.BloatKb });
            cost.Add(new JsonObject { ["policy"] = p, ["what"] = "PTEs examined / 100", ["value"] = s.PtesExamined / 100.0 });
        }
        if (rows.Count > 0) doc.Chart(Charts.Bars("bloat and scan work", cost, "policy", "value", "what", order));
        var memory = new JsonArray();
        foreach (var (p, s) in rows)
            foreach (var m in s.Memory) memory.Add(new JsonObject { ["policy"] = p, ["full scan"] = m.FullScan, ["anon kB"] = m.AnonKb });
        if (memory.Count > 0) doc.Chart(Charts.Lines("anonymous memory at the end of each full scan", memory, "full scan", "quantitative", "anon kB", "policy", null));
    }

    /// <summary>The rows of the address-space map: per VMA of every process, its runs as offsets in kB.</summary>
    static (JsonArray Rows, List<string> Order, int Truncated) AddressMap(Kernel k)
    {
        var rows = new JsonArray();
        var classes = new SortedDictionary<(int, string), string>();
        int truncated = 0;
        long pageKb = k.Geo.PageSize >> 10;
        foreach (var mm in k.Processes)
        {
            var runs = k.MappingRuns(mm);
            ulong pageSize = (ulong)k.Geo.PageSize;
            int r = 0;
            foreach (var vma in mm.Vmas)
            {
                string label = $"{mm.Name} {vma.Start:x}-{vma.End:x}";
                while (r < runs.Count && runs[r].Start + (ulong)runs[r].Pages * pageSize <= vma.Start) r++;
                // A run may go on into the next VMA (runs do not know VMAs): each VMA draws its part.
                for (int j = r; j < runs.Count && runs[j].Start < vma.End; j++)
                {
                    var run = runs[j];
                    ulong from = Math.Max(run.Start, vma.Start), to = Math.Min(run.Start + (ulong)run.Pages * pageSize, vma.End);
                    if (rows.Count >= MaxRuns) { truncated++; continue; }
                    var (rank, cls) = Class(run, pageKb);
                    classes[(rank, cls)] = cls;
                    rows.Add(new JsonObject
                    {
                        ["VMA"] = label, ["from kB"] = (long)(from - vma.Start) >> 10, ["to kB"] = (long)(to - vma.Start) >> 10,
                        ["mapped by"] = cls, ["pages"] = (long)((to - from) / pageSize),
                    });
                }
            }
        }
        return (rows, [.. classes.Values], truncated);
    }

    /// <summary>A run's colour class, ranked so the legend goes from zero pages and swap up through the folio sizes.</summary>
    static (int Rank, string Name) Class(MappingRun run, long pageKb) => run.Kind switch
    {
        MappingKind.Zero => (-3, "zero page"),
        MappingKind.HugeZero => (-2, "huge zero page"),
        MappingKind.Swap => (-1, "swapped out"),
        _ => (run.Order * 2 + (run.Shmem ? 1 : 0), $"{SizeName(pageKb << run.Order)}{(run.Shmem ? " shmem" : "")}{(run.Kind == MappingKind.PmdPage ? " (PMD)" : "")}"),
    };

    static string SizeName(long kb) => kb >= 1024 && kb % 1024 == 0 ? $"{kb / 1024}M" : $"{kb}K";

    static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
}
