using System.Text;
using System.Text.Json;

namespace MthpSim.Oracle.Compare;

/// <summary>Prints oracle results for people, and records/replays live observations.</summary>
public static class OracleReport
{
    public static string Text(OracleResult r)
    {
        var sb = new StringBuilder();
        sb.Append($"== {r.File}");
        if (r.KernelRelease != null) sb.Append($"  (live: Linux {r.KernelRelease})");
        sb.Append('\n');
        foreach (var i in r.Invalid) sb.Append(i).Append('\n');
        if (r.Unavailable != null) { sb.Append($"live kernel unavailable: {r.Unavailable}\n"); return sb.ToString(); }
        int w = Math.Max(20, r.Expectations.Select(e => e.Statement.Length).DefaultIfEmpty(0).Max());
        sb.Append($"  {"line",4}  {"expect".PadRight(w)}  {"live",-16}  {"simulator",-16}  verdict\n");
        foreach (var e in r.Expectations)
        {
            string verdict = e.Agrees ? (e.Live.Observed == e.Sim.Observed ? "ok" : "ok (both in range)")
                : !e.Live.Passed && !e.Sim.Passed ? "FAIL (both)"
                : !e.Live.Passed ? (e.Sim.Passed ? "FAIL (live)" : "FAIL")
                : !e.Sim.Passed ? "FAIL (simulator)"
                : "DIFFER";
            sb.Append($"  {e.Line,4}  {e.Statement.PadRight(w)}  {e.Live.Observed,-16}  {e.Sim.Observed,-16}  {verdict}\n");
        }
        if (r.Counters.Count > 0)
        {
            sb.Append("  counters the scenario moved (live change / simulator):\n");
            foreach (var (name, (l, s)) in r.Counters)
                sb.Append($"    {name,-52} {l,8} / {s,-8}{(l == s ? "" : "  differs")}\n");
        }
        foreach (var n in r.Notes) sb.Append($"  note: {n}\n");
        if (r.Aborted != null) sb.Append($"  aborted: {r.Aborted}\n");
        int agree = r.Expectations.Count(e => e.Agrees);
        sb.Append(r.ExitCode == 0 ? "AGREE" : "DISAGREE").Append($" {r.File}: {agree} of {r.Expectations.Count} expectations hold on both sides with the same value\n");
        return sb.ToString();
    }

    /// <summary>What the live kernel observed, so that a machine without one can still compare (<c>--record</c>).</summary>
    public sealed record Record(string File, string? Kernel, List<RecordedExpectation> Expectations, Dictionary<string, long> Counters);
    public sealed record RecordedExpectation(int Line, string Observable, string Observed, bool Passed);

    public static Record ToRecord(OracleResult r) => new(
        r.File, r.KernelRelease,
        r.Expectations.Select(e => new RecordedExpectation(e.Line, e.Observable, e.Live.Observed, e.Live.Passed)).ToList(),
        r.Counters.ToDictionary(kv => kv.Key, kv => kv.Value.Live));

    public static string ToJson(IEnumerable<Record> records) =>
        JsonSerializer.Serialize(records, new JsonSerializerOptions { WriteIndented = true });

    public static List<Record> FromJson(string json) => JsonSerializer.Deserialize<List<Record>>(json) ?? new();
}
