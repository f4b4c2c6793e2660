using System.Globalization;
using System.Text.Json.Nodes;
using MthpSim.Report.Html;
using MthpSim.Sweep.Run;

namespace MthpSim.Report.Sweeps;

/// <summary>
/// The report of a sweep's results: outcomes, then for each metric a heat map over two axes and line
/// charts along the first, one panel per input (and per value of any further axis).
/// </summary>
public static class SweepReport
{
    public static ReportDocument Build(string name, IReadOnlyList<CellResult> results, string? x = null, string? y = null, IReadOnlyList<string>? counters = null)
    {
        if (results.Count == 0) throw new ArgumentException($"{name} holds no result");
        var axes = AxisOrder(results);
        foreach (var (opt, label) in new[] { ("--x", x), ("--y", y) })
            if (label != null && !axes.Contains(label))
                throw new ArgumentException($"{opt} {label}: the results have no such axis; they have {(axes.Count == 0 ? "none" : string.Join(", ", axes))}");
        // Lines read best along a numeric axis (max_ptes_none, memory), so that one goes first.
        x ??= axes.Where(a => a != y).OrderBy(a => Numeric(results, a) ? 0 : 1).FirstOrDefault();
        y ??= axes.FirstOrDefault(a => a != x);
        var others = axes.Where(a => a != x && a != y).ToList();

        var doc = new ReportDocument($"mthpsim sweep: {name}");
        var inputs = results.Select(r => r.Input).Distinct().ToList();
        doc.Paragraph($"{results.Count} cells: {inputs.Count} input(s) x " + (axes.Count == 0 ? "no axis" : string.Join(" x ", axes.Select(a => $"{results.Select(r => r.Axes[a]).Distinct().Count()} {a}")))
            + $". mthpsim {results[0].Version}.");
        doc.Heading("Outcomes");
        doc.Table(["outcome", "cells"], results.GroupBy(r => r.Outcome).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (IReadOnlyList<string>)[g.Key, N(g.Count())]));
        var errors = results.Where(r => r.Outcome == "error").ToList();
        if (errors.Count > 0)
            doc.Table(["cell", "key", "error"], errors.Take(50).Select(r => (IReadOnlyList<string>)[N(r.Cell), r.Key, (r.Error ?? "").Split('\n')[0]]));

        MemoryBySize(doc, results, x, y, others);

        foreach (var c in counters ?? [])
            if (!results.Any(r => r.Counters.ContainsKey(c)))
                throw new ArgumentException($"--metric {c}: no result has this counter (counters are named vmstat/NAME or sysfs/PATH, e.g. vmstat/thp_collapse_alloc, sysfs/hugepages-64kB/stats/nr_anon)");
        var metrics = SweepMetric.Defaults.Concat((counters ?? []).Select(SweepMetric.Counter)).ToList();
        string xName = x ?? "input", yName = y ?? "input";
        foreach (var m in metrics)
        {
            var rows = new JsonArray();
            foreach (var r in results)
            {
                if (m.Of(r) is not double v) continue;
                var row = new JsonObject { [m.Name] = v, ["cell"] = r.Cell, ["key"] = r.Key };
                row["input"] = r.Input;
                foreach (var a in axes) row[a] = r.Axes[a];
                // One panel per input and value of any axis the two charted ones leave.
                row["panel"] = string.Join(" ", [.. (x == null || y == null ? [] : new[] { r.Input }), .. others.Select(o => $"{o}={r.Axes[o]}")]);
                rows.Add(row);
            }
            if (rows.Count == 0 || rows.All(r => r![m.Name]!.GetValue<double>() == 0)) continue;
            bool panels = rows.Select(r => r!["panel"]!.GetValue<string>()).Distinct().Count() > 1;
            doc.Heading(m.Name);
            if (x == null)
            {
                doc.Chart(Charts.Bars(m.Name, rows, "input", m.Name));
                continue;
            }
            doc.Chart(Charts.Heatmap($"{m.Name} over {xName} and {yName}", rows, xName, yName, m.Name, panels ? "panel" : null,
                results.Select(r => Value(r, xName)), results.Select(r => Value(r, yName))));
            bool numeric = Numeric(results, xName);
            if (numeric) foreach (var row in rows) row![xName] = double.Parse(row[xName]!.GetValue<string>(), CultureInfo.InvariantCulture);
            doc.Chart(Charts.Lines($"{m.Name} along {xName}", rows, xName, numeric ? "quantitative" : "ordinal", m.Name, yName, panels ? "panel" : null,
                numeric ? null : results.Select(r => Value(r, xName))));
        }
        return doc;
    }

    /// <summary>
    /// A result with only what a report charts (the counters asked for, no expectations, no memory
    /// samples): a report of a large sweep holds every cell, so each is kept small while reading.
    /// </summary>
    public static CellResult Slim(CellResult r, IReadOnlyList<string> counters) => r with
    {
        Counters = new SortedDictionary<string, long>(r.Counters.Where(c => counters.Contains(c.Key)).ToDictionary(), StringComparer.Ordinal),
        Failed = [],
        Overridden = [],
        Collapse = r.Collapse is { } c ? c with { Memory = [] } : null,
    };

    /// <summary>Memory by folio size at the end of each cell: stacked bars along x, a panel per input and value of y.</summary>
    static void MemoryBySize(ReportDocument doc, IReadOnlyList<CellResult> results, string? x, string? y, List<string> others)
    {
        var rows = new JsonArray();
        var sizes = new SortedSet<long>();
        foreach (var r in results)
        {
            // A scenario's memory mapped by size; a trace's anonymous memory by size, over its processes.
            var bySize = r.Collapse?.MappedKbBySize.ToDictionary(kv => kv.Key, kv => kv.Value)
                ?? r.Processes?.SelectMany(p => p.AnonPagesBySize).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value * Kb(kv.Key)));
            if (bySize == null) continue;
            foreach (var (size, kb) in bySize)
            {
                sizes.Add(Kb(size));
                var row = new JsonObject { ["folio size"] = size, ["rank"] = Kb(size), ["kB"] = kb, ["input"] = r.Input };
                foreach (var (a, v) in r.Axes) row[a] = v;
                row["panel"] = string.Join(" ", [r.Input, .. others.Select(o => $"{o}={r.Axes[o]}")]);
                rows.Add(row);
            }
        }
        if (rows.Count == 0) return;
        doc.Heading("Memory by folio size");
        doc.Paragraph("What each cell ends with: for a scenario the memory mapped by each folio size, for a trace its processes' anonymous memory by folio size.");
        string xName = x ?? "input";
        doc.Chart(Charts.StackedBars("memory by folio size at the end", rows, xName, "kB", "folio size", sizes.Select(kb => $"{kb}kB"),
            x == null ? null : "panel", y, results.Select(r => Value(r, xName)), y == null ? null : results.Select(r => Value(r, y))));
    }

    static long Kb(string size) => long.Parse(size[..^2], CultureInfo.InvariantCulture);

    static string Value(CellResult r, string axis) => axis == "input" ? r.Input : r.Axes[axis];

    /// <summary>Whether every value of the axis is a number.</summary>
    static bool Numeric(IReadOnlyList<CellResult> results, string axis) =>
        results.All(r => double.TryParse(Value(r, axis), NumberStyles.Float, CultureInfo.InvariantCulture, out _));

    /// <summary>The axes in the grid's order, as the cells' keys list them.</summary>
    static List<string> AxisOrder(IReadOnlyList<CellResult> results)
    {
        var first = results[0];
        return [.. first.Axes.Keys.OrderBy(a => first.Key.IndexOf(" " + a + "=", StringComparison.Ordinal))];
    }

    static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
}
