using System.Text;
using MthpSim.Core.Debug;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Fuzz;

/// <summary>A failure the fuzzer found, with the shortest scenario that still shows it.</summary>
public sealed record FuzzFailure(ulong EpisodeSeed, string Reason, string Scenario, int OriginalLines);

/// <summary>What a fuzz run did.</summary>
public sealed record FuzzReport(long Ops, int Episodes, FuzzFailure? Failure);

/// <summary>
/// Random testing: episodes of generated statements (a fresh machine each), the invariant checker
/// after every statement and <c>intact</c> on every live region at the end. A failing episode is
/// shrunk (delta debugging over its lines) to a short scenario that fails the same test.
/// </summary>
public static class Fuzzer
{
    public static FuzzReport Run(long ops, ulong seed, int opsPerEpisode = 500, Action<long>? progress = null)
    {
        var checker = new InvariantChecker();
        long done = 0;
        int episode = 0;
        while (done < ops)
        {
            ulong episodeSeed = seed * 0x100000001B3UL + (ulong)episode;
            int n = (int)Math.Min(opsPerEpisode, ops - done);
            var (lines, reason) = RunEpisode(episodeSeed, n, checker);
            done += n;
            episode++;
            progress?.Invoke(done);
            if (reason != null)
            {
                var shrunk = Shrink(lines, Kind(reason));
                return new FuzzReport(done, episode, new FuzzFailure(episodeSeed, reason, string.Join('\n', shrunk) + "\n", lines.Count));
            }
        }
        return new FuzzReport(done, episode, null);
    }

    /// <summary>Generates and runs one episode; returns its lines and the first failure, if any.</summary>
    public static (List<string> Lines, string? Failure) RunEpisode(ulong seed, int ops, InvariantChecker? checker = null)
    {
        checker ??= new InvariantChecker();
        var gen = new ScenarioGenerator(seed);
        var parser = ScenarioParser.Incremental("fuzz.mthp");
        var lines = new List<string>();
        var result = new RunResult { File = "fuzz.mthp" };
        var prologue = gen.Prologue().ToList();
        var prepared = ScenarioRunner.Prepare("fuzz.mthp", prologue[0] + "\n", result)
            ?? throw new InvalidOperationException("the fuzzer's machine line is invalid");
        var session = prepared.Session;
        var quiet = new RunOptions();
        string? Step(string line)
        {
            lines.Add(line);
            var (stmt, err) = parser.ParseNext(line);
            if (err != null) return $"generator produced an invalid line: {err}";
            if (stmt == null) return null;
            try
            {
                ScenarioRunner.Execute(session, stmt, result, quiet);
            }
            catch (ScenarioRuntimeException e) { return e.ToString(); }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or KeyNotFoundException or NullReferenceException)
            {
                return $"line {lines.Count}: {e.GetType().Name}: {e.Message}";
            }
            if (result.Failures.Any()) return result.Failures.First().Describe();
            var violations = checker.Run(session.Kernel);
            return violations.Count == 0 ? null : $"line {lines.Count}: invariant violated after '{line}':\n    " + string.Join("\n    ", violations.Take(10));
        }
        foreach (var line in prologue)
            if (Step(line) is string f) return (lines, f);
        gen.OnPrologueRun();
        for (int i = 0; i < ops; i++)
        {
            string line = gen.Next(session);
            gen.BeforeRun(line);
            if (Step(line) is string f) return (lines, f);
            gen.Observe(session);
        }
        foreach (var line in gen.Epilogue())
            if (Step(line) is string f) return (lines, f);
        return (lines, null);
    }

    /// <summary>The kind of a failure, which shrinking must keep (not any failure: a removed mmap makes others).</summary>
    static string Kind(string reason) =>
        reason.Contains("invariant violated") ? "invariant violated"
        : reason.Contains("expect failed") ? "expect failed"
        : reason.Contains("Exception:") ? reason[(reason.IndexOf(": ", StringComparison.Ordinal) + 2)..reason.IndexOf("Exception:", StringComparison.Ordinal)]
        : reason;

    /// <summary>Whether a scenario text fails with a failure of the given kind when run with the invariant checker.</summary>
    public static bool Fails(IReadOnlyList<string> lines, string kind)
    {
        try
        {
            var r = ScenarioRunner.RunText("fuzz.mthp", string.Join('\n', lines) + "\n", new RunOptions { CheckInvariants = true });
            if (r.ExitCode != 1) return false;
            string what = r.Aborted ?? string.Join("\n", r.Failures.Select(f => f.Describe()));
            return what.Contains(kind, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or KeyNotFoundException or NullReferenceException)
        {
            return e.GetType().Name.StartsWith(kind, StringComparison.Ordinal);
        }
    }

    /// <summary>ddmin over the lines after the machine line: a small subset that still fails the same way.</summary>
    public static List<string> Shrink(List<string> lines, string kind)
    {
        var head = lines.Take(1).ToList();
        var body = lines.Skip(1).ToList();
        if (!Fails(lines, kind)) return lines;   // not reproducible from text alone: keep it whole
        int chunks = 2;
        while (body.Count >= 2)
        {
            int size = (body.Count + chunks - 1) / chunks;
            bool reduced = false;
            for (int start = 0; start < body.Count; start += size)
            {
                var candidate = body.Take(start).Concat(body.Skip(start + size)).ToList();
                if (Fails(head.Concat(candidate).ToList(), kind))
                {
                    body = candidate;
                    chunks = Math.Max(chunks - 1, 2);
                    reduced = true;
                    break;
                }
            }
            if (!reduced)
            {
                if (chunks >= body.Count) break;
                chunks = Math.Min(chunks * 2, body.Count);
            }
        }
        return head.Concat(body).ToList();
    }
}
