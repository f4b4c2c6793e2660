using MthpSim.Core;
using MthpSim.Scenario.Syntax;
using MthpSim.Trace.Format;
using MthpSim.Trace.Replay;

namespace MthpSim.Scenario.Runtime;

public static partial class ScenarioRunner
{
    /// <summary>
    /// <c>replay TRACE as PREFIX</c>: the trace's records on this machine from its current state
    /// (settings, time, other processes as they are), then each traced process bound as PREFIXn with
    /// its named regions where they are now. What the replay could not do as recorded is written out
    /// as a print would be (<c>replay: ...</c>), and <c>rc</c> is the number of such records.
    /// </summary>
    static void Replay(ScenarioSession s, ReplayStmt r, RunResult result, RunOptions options)
    {
        TraceReplay replay;
        try
        {
            using var reader = TraceReader.Open(r.Path);
            replay = new TraceReplay(s.Kernel, reader.Header);
            replay.ApplyAll(reader);
            replay.Finish();
        }
        catch (Exception e) when (e is IOException or TraceFormatException or ReplayException)
        {
            throw new ScenarioRuntimeException(r.Span, $"replay of {r.Path}: {e.Message}");
        }
        foreach (var p in replay.Numbered())
        {
            string name = r.Prefix + p.Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            s.AddProcess(name, p.Mm ?? ScenarioSession.Gone(name));
            var parsed = r.Processes.FirstOrDefault(x => x.Number == p.Number);
            foreach (var region in parsed?.Regions ?? [])
                s.BindRegion(name, region, p.Regions.TryGetValue(region, out var range)
                    ? new RegionBinding(range.Start, range.End - range.Start, (long)range.Start)
                    : new RegionBinding(0, 0, p.Mm == null ? -Errno.ESRCH : -Errno.ENOMEM));
        }
        long problems = replay.Problems.Values.Sum(v => v.Count);
        s.Rc = problems;
        if (problems == 0 || (options.Output == null && !options.KeepPrints)) return;
        var text = string.Concat(replay.Problems.Select(kv => $"replay: {kv.Key}: {kv.Value.Count} (first: {kv.Value.First})\n"));
        options.Output?.Write(text);
        if (options.KeepPrints) result.Prints.Add(new PrintOutput(r.Span.Line, text));
    }
}
