using MthpSim.Sweep.Grid;
using MthpSim.Sweep.Run;

namespace MthpSim.Sweep.Results;

/// <summary>What a merge found: the cells merged, and those of the grid no shard had.</summary>
public sealed record MergeOutcome(int Merged, IReadOnlyList<SweepCell> Missing, IReadOnlyList<string> Notes);

/// <summary>Combines the results files of a sweep's shards into one, in cell order.</summary>
public static class SweepMerge
{
    public static MergeOutcome Merge(SweepGrid grid, IReadOnlyList<string> inputs, string output)
    {
        var byKey = grid.Cells().ToDictionary(c => c.Key);
        var notes = new List<string>();
        var merged = new Dictionary<string, (CellResult Result, string From)>();
        string? version = null, versionFrom = null;
        foreach (var path in inputs)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
            foreach (var r in ResultsFile.Read(path, notes))
            {
                if (!byKey.TryGetValue(r.Key, out var cell))
                    throw new InvalidDataException($"{path} holds a cell the grid {grid.File} does not have ({r.Key}): is it another sweep's?");
                if (version != null && r.Version != version)
                    throw new InvalidDataException($"{path} was written by mthpsim {r.Version} and {versionFrom} by {version}: results of two versions are not merged");
                (version, versionFrom) = (r.Version, path);
                var result = r with { Cell = cell.Index };
                if (merged.TryGetValue(r.Key, out var earlier))
                {
                    // The same cell run twice must have given the same result: the simulator is deterministic.
                    if (ResultsFile.Line(earlier.Result with { ElapsedMs = 0 }) != ResultsFile.Line(result with { ElapsedMs = 0 }))
                        throw new InvalidDataException($"cell {cell.Index} ({r.Key}) has different results in {earlier.From} and {path}");
                    notes.Add($"cell {cell.Index} is in both {earlier.From} and {path} (the same result; kept once)");
                    continue;
                }
                merged[r.Key] = (result, path);
            }
        }
        ResultsFile.Write(output, merged.Values.Select(m => m.Result));
        var missing = grid.Cells().Where(c => !merged.ContainsKey(c.Key)).ToList();
        return new MergeOutcome(merged.Count, missing, notes);
    }
}
