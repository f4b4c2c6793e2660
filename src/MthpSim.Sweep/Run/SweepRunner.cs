using MthpSim.Sweep.Grid;
using MthpSim.Sweep.Results;

namespace MthpSim.Sweep.Run;

/// <summary>How a sweep runs.</summary>
public sealed record SweepOptions
{
    public required string ResultsPath { get; init; }
    /// <summary>The tool's version, written into every result; results of another version are not mixed in.</summary>
    public required string Version { get; init; }
    /// <summary>Cells run at once (each on a machine of its own).</summary>
    public int Jobs { get; init; } = 1;
    public Shard? Shard { get; init; }
    /// <summary>Run again the cells whose result is an error (a rerun skips every finished cell otherwise).</summary>
    public bool RetryErrors { get; init; }
    public CancellationToken Cancel { get; init; }
    /// <summary>Told (cells finished in this run, cells this run has to do) after each cell; called under a lock.</summary>
    public Action<int, int, CellResult>? CellDone { get; init; }
}

/// <summary>What a sweep did: the cells of its share, those a previous run had finished, and the outcomes.</summary>
public sealed record SweepSummary(int Cells, int AlreadyDone, int Ran, int Pass, int Fail, int Errors, bool Interrupted, IReadOnlyList<string> Notes);

/// <summary>Expands a grid, skips what the results file already holds, and runs the rest.</summary>
public static class SweepRunner
{
    public static SweepSummary Run(SweepGrid grid, SweepOptions o)
    {
        var cells = grid.Cells().Where(c => o.Shard is not { } s || s.Owns(c.Index)).ToList();
        var byKey = grid.Cells().ToDictionary(c => c.Key, c => c.Index);
        var notes = new List<string>();
        if (Path.GetDirectoryName(Path.GetFullPath(o.ResultsPath)) is string folder) Directory.CreateDirectory(folder);
        // What a killed run left (an unfinished last line, cells out of order, a cell run again) is
        // cleaned up first, so that lines can be appended.
        var outcomes = new Dictionary<string, string>();
        if (File.Exists(o.ResultsPath)) outcomes = Reorder(o.ResultsPath, byKey, o.Version, notes);
        else File.WriteAllText(o.ResultsPath, "");
        int alreadyDone = cells.Count(c => outcomes.TryGetValue(c.Key, out var r) && !(o.RetryErrors && r == "error"));
        var todo = cells.Where(c => !outcomes.TryGetValue(c.Key, out var r) || (o.RetryErrors && r == "error")).ToList();

        var gate = new Lock();
        int ran = 0;
        // Lines are appended as cells finish, so a sweep that is killed keeps what it finished.
        using (var append = new StreamWriter(o.ResultsPath, append: true))
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Jobs) };
            Parallel.ForEach(todo, parallel, (cell, loop) =>
            {
                if (o.Cancel.IsCancellationRequested) { loop.Stop(); return; }
                var result = CellRunner.Run(cell, o.Version, o.Cancel);
                if (o.Cancel.IsCancellationRequested && result.Error == "interrupted") return;   // not finished: runs again next time
                lock (gate)
                {
                    append.Write(ResultsFile.Line(result) + "\n");
                    append.Flush();
                    outcomes[cell.Key] = result.Outcome;
                    o.CellDone?.Invoke(++ran, todo.Count, result);
                }
            });
        }
        bool interrupted = o.Cancel.IsCancellationRequested;
        // In cell order once the run ends, interrupted or not: the file then reads the same however many jobs ran it.
        Reorder(o.ResultsPath, byKey, o.Version, notes);
        var mine = cells.Where(c => outcomes.ContainsKey(c.Key)).Select(c => outcomes[c.Key]).ToList();
        return new SweepSummary(cells.Count, alreadyDone, ran, mine.Count(r => r == "pass"), mine.Count(r => r == "fail"), mine.Count(r => r == "error"), interrupted, notes);
    }

    /// <summary>
    /// Rewrites a results file in cell order (numbered as this grid numbers its cells), the last line
    /// of a cell winning where a cell was run again; returns each cell's outcome by key.
    /// </summary>
    static Dictionary<string, string> Reorder(string path, Dictionary<string, int> byKey, string version, List<string> notes)
    {
        var last = new Dictionary<string, ResultLine>();
        foreach (var (r, where) in ResultsFile.Scan(path, notes))
        {
            if (!byKey.TryGetValue(r.Key, out int index))
                throw new InvalidDataException($"{path} holds a cell this grid does not have ({r.Key}); write this sweep's results to another file (-o)");
            if (r.Version != version)
                throw new InvalidDataException($"{path} was written by mthpsim {r.Version}, and this is {version}: results of two versions would not be comparable; write to another file (-o) or remove it");
            // The grid may have gained cells before this one since the line was written: renumbered.
            last[r.Key] = r.Cell == index ? where : where with { Cell = index, Text = ResultsFile.Line(r with { Cell = index }) };
        }
        ResultsFile.WriteOrdered(path, last.Values);
        return last.ToDictionary(kv => kv.Key, kv => kv.Value.Outcome);
    }
}
