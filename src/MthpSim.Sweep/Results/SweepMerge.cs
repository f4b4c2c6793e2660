using MthpSim.Sweep.Grid;
using MthpSim.Sweep.Run;

namespace MthpSim.Sweep.Results;

/// <summary>What a merge found: the cells merged, and those of the grid no shard had.</summary>
public sealed record MergeOutcome(int Merged, IReadOnlyList<SweepCell> Missing, IReadOnlyList<string> Notes);

/// <summary>Combines the results files of a sweep's shards into one, in cell order, a line at a time.</summary>
public static class SweepMerge
{
    public static MergeOutcome Merge(SweepGrid grid, IReadOnlyList<string> inputs, string output)
    {
        var byKey = grid.Cells().ToDictionary(c => c.Key, c => c.Index);
        var notes = new List<string>();
        var merged = new Dictionary<string, ResultLine>();
        string? version = null, versionFrom = null;
        foreach (var path in inputs)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
            foreach (var (r, where) in ResultsFile.Scan(path, notes))
            {
                if (!byKey.TryGetValue(r.Key, out int index))
                    throw new InvalidDataException($"{path} holds a cell the grid {grid.File} does not have ({r.Key}): is it another sweep's?");
                if (version != null && r.Version != version)
                    throw new InvalidDataException($"{path} was written by mthpsim {r.Version} and {versionFrom} by {version}: results of two versions are not merged");
                (version, versionFrom) = (r.Version, path);
                var line = r.Cell == index ? where : where with { Cell = index, Text = ResultsFile.Line(r with { Cell = index }) };
                if (merged.TryGetValue(r.Key, out var earlier))
                {
                    // The same cell run twice must have given the same result: the simulator is deterministic.
                    if (!SameResult(earlier, line))
                        throw new InvalidDataException($"cell {index} ({r.Key}) has different results in {earlier.Source} and {path}");
                    notes.Add($"cell {index} is in both {earlier.Source} and {path} (the same result; kept once)");
                    continue;
                }
                merged[r.Key] = line;
            }
        }
        ResultsFile.WriteOrdered(output, merged.Values);
        var missing = grid.Cells().Where(c => !merged.ContainsKey(c.Key)).ToList();
        return new MergeOutcome(merged.Count, missing, notes);
    }

    /// <summary>Whether two lines hold the same result but for the host time.</summary>
    static bool SameResult(ResultLine a, ResultLine b)
    {
        CellResult Parse(ResultLine l) => System.Text.Json.JsonSerializer.Deserialize<CellResult>(ResultsFile.Text(l), ResultsFile.Json)! with { ElapsedMs = 0 };
        return ResultsFile.Line(Parse(a)) == ResultsFile.Line(Parse(b));
    }
}
