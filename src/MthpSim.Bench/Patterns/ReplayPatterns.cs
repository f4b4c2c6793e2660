using MthpSim.Trace.Format;
using MthpSim.Trace.Replay;

namespace MthpSim.Bench.Patterns;

/// <summary>
/// <c>replay:traces/NAME</c>: each shipped trace replayed whole, reading and decompressing included
/// (the machine and the trace's header in the setup); ns per record, target 10 M records/s.
/// </summary>
internal static class ReplayPatterns
{
    public static readonly BenchTarget RecordsPerSecond = new(TargetKind.RateAtLeast, 10e6);

    public static IEnumerable<BenchPattern> All(string? scenariosDir)
    {
        if (scenariosDir == null) yield break;
        string traces = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(scenariosDir).TrimEnd('/'))!, "traces");
        if (!Directory.Exists(traces)) yield break;
        foreach (var dir in Directory.GetDirectories(traces).Order(StringComparer.Ordinal))
        {
            string file = Path.Combine(dir, "trace.mtrace");
            if (!File.Exists(file)) continue;
            string name = $"traces/{Path.GetFileName(dir)}";
            yield return new BenchPattern
            {
                Name = $"replay:{name}",
                Family = "replay",
                Unit = "rec",
                Description = $"replay of {name}/trace.mtrace under its own settings; ns per record",
                Targets = [RecordsPerSecond],
                Prepare = () => Prepare(file),
            };
        }
    }

    static PreparedRun Prepare(string file)
    {
        var reader = TraceReader.Open(file);
        var k = ReplayMachine.Create(reader.Header, [], null, 16L << 30);
        return new PreparedRun(k, () =>
        {
            using (reader) return TraceReplay.Run(k, reader).Events;
        });
    }
}
