using MthpSim.Core.Khugepaged.Policies;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Sweep.Grid;

/// <summary>
/// A sweep's grid (docs/sweep.md): the scenarios and traces to run, and the axes (sysfs settings,
/// collapse policy, machine options) whose every combination each of them runs under.
/// </summary>
public sealed class SweepGrid
{
    public required string File { get; init; }
    public required IReadOnlyList<GridInput> Inputs { get; init; }
    public required IReadOnlyList<GridAxis> Axes { get; init; }

    /// <summary>Inputs times the product of the axes' lengths.</summary>
    public long CellCount => Axes.Aggregate((long)Inputs.Count, (n, a) => n * a.Values.Count);

    /// <summary>Every cell in index order: inputs outermost, then the axes in the grid's order, the last fastest.</summary>
    public IEnumerable<SweepCell> Cells()
    {
        int index = 0;
        var picked = new int[Axes.Count];
        foreach (var input in Inputs)
        {
            Array.Clear(picked);
            while (true)
            {
                yield return new SweepCell(index++, input, [.. Axes.Select((a, i) => (a, a.Values[picked[i]]))]);
                int k = Axes.Count - 1;
                while (k >= 0 && ++picked[k] == Axes[k].Values.Count) picked[k--] = 0;
                if (k < 0) break;
            }
        }
    }

    public static SweepGrid Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new GridException(path, 0, "no such file");
        byte[] bytes;
        try { bytes = System.IO.File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new GridException(path, 0, $"cannot be read: {e.Message}"); }
        if (SourceText.Decode(path, bytes, out var error) is not string text)
            throw new GridException(path, 0, error!.Message);
        return Parse(path, text, Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Parses a grid whose relative paths are relative to <paramref name="folder"/>.</summary>
    public static SweepGrid Parse(string file, string text, string folder)
    {
        var inputs = new List<GridInput>();
        var axes = new List<GridAxis>();
        var lines = text.Split('\n');
        for (int n = 1; n <= lines.Length; n++)
        {
            string line = lines[n - 1];
            int hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            var words = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            GridException Error(string message) => new(file, n, message);
            switch (words[0])
            {
                case "scenario" or "trace":
                    if (words.Length == 1) throw Error($"'{words[0]}' needs at least one path or pattern (e.g. {(words[0] == "trace" ? "traces/xz/trace.mtrace" : "scenarios/policies/*.mthp")})");
                    var kind = words[0] == "trace" ? InputKind.Trace : InputKind.Scenario;
                    foreach (var pattern in words[1..])
                        foreach (var (name, full) in Expand(pattern, folder, Error))
                        {
                            if (inputs.FirstOrDefault(i => i.Name == name) is { } twice) throw Error($"{Echo.Quote(name)} is already an input (line {twice.Line})");
                            inputs.Add(new GridInput(kind, name, full, n));
                        }
                    break;
                case "sysfs" or "policy" or "machine":
                    var axis = ParseAxis(words, Error, n);
                    if (axes.FirstOrDefault(a => a.Label == axis.Label) is { } same) throw Error($"{axis.Label} is already an axis (line {same.Line})");
                    axes.Add(axis);
                    break;
                default:
                    throw Error($"unknown statement {Echo.Quote(words[0])}{Suggestions.DidYouMean(words[0], Statements)}; a grid has {string.Join(", ", Statements.Select(s => $"'{s}'"))} lines");
            }
        }
        if (inputs.Count == 0) throw new GridException(file, 0, "no 'scenario' or 'trace' line: the grid names nothing to run");
        if (inputs.Any(i => i.Kind == InputKind.Trace) && axes.FirstOrDefault(a => a.Kind == AxisKind.Machine && a.Name != "memory") is { } m)
            throw new GridException(file, m.Line, $"a trace replays on the machine it was recorded on: of the machine options only memory can vary in a grid with traces, not {m.Name}");
        return new SweepGrid { File = file, Inputs = inputs, Axes = axes };
    }

    static readonly string[] Statements = ["scenario", "trace", "sysfs", "policy", "machine"];

    /// <summary><c>sysfs PATH = V | V</c>, <c>policy collapse = A | B</c>, <c>machine KEY = V | V</c>.</summary>
    static GridAxis ParseAxis(string[] words, Func<string, GridException> error, int line)
    {
        string head = words[0];
        int eq = Array.IndexOf(words, "=");
        if (eq != 2) throw error(head switch
        {
            "sysfs" => "expected 'sysfs PATH = VALUE | VALUE ...' (spaces around '=' and '|')",
            "policy" => "expected 'policy collapse = NAME | NAME ...' (spaces around '=' and '|')",
            _ => $"expected 'machine KEY = VALUE | VALUE ...' with KEY one of {string.Join(", ", Keywords.MachineKeys)}",
        });
        string name = words[1];
        var values = new List<string>();
        var current = new List<string>();
        foreach (var w in words[(eq + 1)..].Append("|"))
        {
            if (w != "|") { current.Add(w); continue; }
            if (current.Count == 0) throw error($"an empty value in {head} {name}: values are separated by ' | '");
            string v = string.Join(' ', current);
            if (values.Contains(v)) throw error($"{Echo.Quote(v)} is given twice for {head} {name}");
            values.Add(v);
            current.Clear();
        }
        switch (head)
        {
            case "sysfs":
                if (name.StartsWith('/')) throw error($"sysfs paths are relative to /sys/kernel/mm/transparent_hugepage/ (e.g. khugepaged/max_ptes_none), got {Echo.Quote(name)}");
                return new GridAxis(AxisKind.Sysfs, name, values, line);
            case "policy":
                if (name != "collapse") throw error($"unknown policy {Echo.Quote(name)}; the only policy is 'collapse'");
                foreach (var v in values)
                    if (CollapsePolicies.Create(v) is null)
                        throw error($"unknown collapse policy {Echo.Quote(v)}{Suggestions.DidYouMean(v, CollapsePolicies.Names)}; known: {string.Join(", ", CollapsePolicies.Names)}");
                return new GridAxis(AxisKind.Policy, name, values, line);
            default:
                if (!Keywords.MachineKeys.Contains(name))
                    throw error($"unknown machine option {Echo.Quote(name)}{Suggestions.DidYouMean(name, Keywords.MachineKeys)}; expected {string.Join(", ", Keywords.MachineKeys)}");
                // Each value is checked as the scenario language checks it, with its messages.
                foreach (var v in values)
                    if (ScenarioParser.Parse("grid", $"machine {name}={v}") is { Success: false } bad)
                        throw error(bad.Errors[0].Message);
                return new GridAxis(AxisKind.Machine, name, values, line);
        }
    }

    /// <summary>A path, or a pattern with * and ? in its last part (matches in ordinal order).</summary>
    static IEnumerable<(string Name, string FullPath)> Expand(string pattern, string folder, Func<string, GridException> error)
    {
        string full = Path.GetFullPath(Path.Combine(folder, pattern));
        string leaf = Path.GetFileName(pattern);
        if (leaf.IndexOfAny(['*', '?']) < 0)
        {
            if (!System.IO.File.Exists(full)) throw error($"{Echo.Quote(pattern)}: no such file");
            return [(pattern, full)];
        }
        string dirPart = Path.GetDirectoryName(pattern) ?? "";
        if (dirPart.IndexOfAny(['*', '?']) >= 0) throw error($"{Echo.Quote(pattern)}: * and ? may appear only in the file name");
        string dir = Path.GetDirectoryName(full)!;
        var matches = Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, leaf, SearchOption.TopDirectoryOnly).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()
            : [];
        if (matches.Count == 0) throw error($"{Echo.Quote(pattern)} matches no file");
        return matches.Select(m => (dirPart.Length == 0 ? m! : $"{dirPart}/{m}", Path.Combine(dir, m!)));
    }
}
