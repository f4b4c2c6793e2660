using System.Diagnostics;
using System.Globalization;
using MthpSim.Core;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;
using MthpSim.Sweep.Grid;
using MthpSim.Trace.Format;
using MthpSim.Trace.Replay;

namespace MthpSim.Sweep.Run;

/// <summary>Runs one cell of a sweep: its scenario or trace under the cell's values, on a machine of its own.</summary>
public static class CellRunner
{
    /// <summary>Replays run on this much simulated memory unless the grid varies it (as <c>mthpsim replay</c>).</summary>
    public const long DefaultTraceMemory = 16L << 30;

    public static CellResult Run(SweepCell cell, string version, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var result = cell.Input.Kind == InputKind.Trace ? RunTrace(cell, version) : RunScenario(cell, version, cancel);
        return result with { ElapsedMs = Math.Round(clock.Elapsed.TotalMilliseconds, 3) };
    }

    static CellResult Base(SweepCell cell, string version, string outcome) => new()
    {
        Cell = cell.Index, Key = cell.Key, Input = cell.Input.Name, Kind = cell.Input.Kind == InputKind.Trace ? "trace" : "scenario",
        Axes = new SortedDictionary<string, string>(cell.Values.ToDictionary(v => v.Axis.Label, v => v.Value), StringComparer.Ordinal),
        Outcome = outcome, Version = version, Policy = cell.Policy,
    };

    static CellResult Failed(SweepCell cell, string version, string error) => Base(cell, version, "error") with { Error = error };

    static CellResult RunScenario(SweepCell cell, string version, CancellationToken cancel)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(cell.Input.FullPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Failed(cell, version, $"{cell.Input.Name}: cannot be read: {e.Message}"); }
        if (SourceText.Decode(cell.Input.Name, bytes, out var undecodable) is not string text)
            return Failed(cell, version, undecodable!.ToString());
        RunResult r;
        try { r = ScenarioRunner.RunText(cell.Input.Name, text, new RunOptions { Policy = cell.Policy, Machine = MachineOf(cell), HeldSysfs = cell.Sysfs, Cancel = cancel }); }
        catch (GridException e) { return Failed(cell, version, e.Message); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed(cell, version, $"internal error: {e.GetType().Name}: {e.Message}");
        }
        var done = Base(cell, version, r.Passed ? "pass" : "fail") with
        {
            Policy = r.PolicyName ?? cell.Policy, Seed = r.Seed,
            Expectations = r.Expectations.Count, ExpectationsHeld = r.Expectations.Count(e => e.Passed),
            Failed = [.. r.Failures.Select(f => f.Describe())], Overridden = r.Overridden,
        };
        if (r.Invalid.Count > 0) return done with { Outcome = "error", Error = string.Join("\n", r.Invalid) };
        if (r.Interrupted) return done with { Outcome = "error", Error = "interrupted" };
        done = done with { Counters = r.Counters, Collapse = CollapseSummary.From(r) };
        return r.Aborted != null ? done with { Outcome = "error", Error = r.Aborted } : done;
    }

    /// <summary>The cell's machine options as one statement, or null when the grid varies none.</summary>
    static MachineStmt? MachineOf(SweepCell cell)
    {
        if (cell.Machine.Count == 0) return null;
        string text = "machine " + string.Join(' ', cell.Machine.Select(m => $"{m.Key}={m.Value}"));
        var parsed = ScenarioParser.Parse("the cell's machine values", text);
        // The grid checked every value alone; a combination the model lacks (x86_64 with 64K pages) is
        // refused when the machine is built, as the scenario's own would be.
        if (!parsed.Success) throw new GridException(cell.Key, 0, parsed.Errors[0].Message);
        return (MachineStmt)parsed.Statements[0];
    }

    static CellResult RunTrace(SweepCell cell, string version)
    {
        long memory = DefaultTraceMemory;
        if (cell.Machine.FirstOrDefault(m => m.Key == "memory").Value is string size) SizeText.TryParse(size, out memory);
        try
        {
            using var reader = TraceReader.Open(cell.Input.FullPath);
            var k = ReplayMachine.Create(reader.Header, cell.Sysfs, cell.Policy, memory, setsFrom: "the cell's setting");
            var replay = TraceReplay.Run(k, reader);
            var counters = new RunResult { File = cell.Input.Name };
            ScenarioRunner.CollectCounters(k, counters);
            return Base(cell, version, "pass") with
            {
                Policy = k.CollapsePolicy.Name, Seed = k.Config.Seed, Counters = counters.Counters,
                Processes = [.. replay.Snapshots.Select(p => new ProcessEnd(p.Pid, p.Comm, p.RssKb, p.RssAnonKb, p.RssFileKb + p.RssShmemKb, p.MinFlt,
                    Sizes(k, p.Census.AnonPagesByOrder), Sizes(k, p.Census.FilePagesByOrder)))],
                NotReplayed = new SortedDictionary<string, long>(replay.Problems.ToDictionary(p => p.Key, p => p.Value.Count), StringComparer.Ordinal),
            };
        }
        catch (Exception e) when (e is TraceFormatException or ReplayException or InvalidDataException or IOException)
        {
            return Failed(cell, version, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed(cell, version, $"internal error: {e.GetType().Name}: {e.Message}");
        }
    }

    static SortedDictionary<string, long> Sizes(Kernel k, long[] pagesByOrder)
    {
        var d = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int o = 0; o < pagesByOrder.Length; o++)
            if (pagesByOrder[o] != 0) d[k.Geo.SizeOfOrderKb(o).ToString(CultureInfo.InvariantCulture) + "kB"] = pagesByOrder[o];
        return d;
    }
}
