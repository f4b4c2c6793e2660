using System.Text;
using MthpSim.Core.Debug;
using MthpSim.Scenario.Reference;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Fuzz;

/// <summary>A failure the fuzzer found, with the shortest scenario that still shows it.</summary>
public sealed record FuzzFailure(ulong EpisodeSeed, string Reason, string Scenario, int OriginalLines);

/// <summary>What a fuzz run did: the generated statements that ran (up to a failure), and what they exercised.
/// <see cref="Interrupted"/>: the run was cancelled (a signal) and stopped after the episodes it reports.</summary>
public sealed record FuzzReport(long Ops, int Episodes, FuzzFailure? Failure, FuzzTally Tally, bool Interrupted = false);

/// <summary>
/// Random testing: episodes of generated statements (a fresh machine each), the invariant checker
/// after every statement and <c>intact</c> on every live region at the end. A failing episode is
/// shrunk (delta debugging over its lines) to a short scenario that fails the same test.
/// </summary>
public static class Fuzzer
{
    /// <summary>
    /// Runs episodes until <paramref name="ops"/> operations ran or one fails. Episodes are
    /// independent (a fresh machine each), so up to <paramref name="jobs"/> run at once (0: one per
    /// processor); the report is the one a single thread would give: the first failing episode in
    /// episode order, progress reported in order.
    /// </summary>
    public static FuzzReport Run(long ops, ulong seed, int opsPerEpisode = 500, Action<long>? progress = null, int jobs = 0, GeneratorProfile? profile = null,
        CancellationToken cancel = default)
    {
        int episodes = (int)((ops + opsPerEpisode - 1) / opsPerEpisode);
        int OpsOf(int episode) => (int)Math.Min(opsPerEpisode, ops - (long)episode * opsPerEpisode);
        ulong SeedOf(int episode) => seed * 0x100000001B3UL + (ulong)episode;
        var outcomes = new EpisodeOutcome?[episodes];
        int next = 0, firstFailure = int.MaxValue;
        var gate = new object();
        void Worker()
        {
            var checker = new InvariantChecker();
            while (true)
            {
                int episode = Interlocked.Increment(ref next) - 1;
                // Episodes after a failure are not needed (those before it still are).
                if (episode >= episodes || episode > Volatile.Read(ref firstFailure) || cancel.IsCancellationRequested) return;
                EpisodeOutcome outcome;
                try
                {
                    var tally = new FuzzTally();
                    // Without a profile given, every fourth episode has swap (every other one of those with cgroups),
                    // and three in eight run on arm64, with 4K, 16K and 64K pages.
                    var episodeProfile = profile ?? (episode % 8) switch
                    {
                        1 => GeneratorProfile.Arm64Page16K,
                        3 => GeneratorProfile.SimulatorSwap,
                        5 => GeneratorProfile.Arm64Page64K,
                        6 => GeneratorProfile.Arm64Page4K,
                        7 => GeneratorProfile.SimulatorSwapCgroups,
                        _ => GeneratorProfile.Simulator,
                    };
                    var (lines, reason) = RunEpisode(SeedOf(episode), OpsOf(episode), checker, tally, episodeProfile);
                    outcome = new EpisodeOutcome(reason == null ? null : lines, reason, null, tally);
                }
                catch (Exception e) { outcome = new EpisodeOutcome(null, null, e, null); }
                if (outcome.Failed)
                    for (int seen = Volatile.Read(ref firstFailure); episode < seen; seen = Volatile.Read(ref firstFailure))
                        if (Interlocked.CompareExchange(ref firstFailure, episode, seen) == seen) break;
                lock (gate)
                {
                    outcomes[episode] = outcome;
                    Monitor.PulseAll(gate);
                }
            }
        }
        int threads = Math.Clamp(jobs > 0 ? jobs : Environment.ProcessorCount, 1, Math.Max(episodes, 1));
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(Worker) { IsBackground = true }).ToList();
        workers.ForEach(t => t.Start());

        // In episode order: progress after each, and the first failure ends the run.
        long done = 0;
        var total = new FuzzTally();
        for (int episode = 0; episode < episodes; episode++)
        {
            EpisodeOutcome? ready;
            lock (gate)
            {
                // Once cancelled, a worker takes no new episode: this one may never come.
                while ((ready = outcomes[episode]) == null && !cancel.IsCancellationRequested) Monitor.Wait(gate, cancel.CanBeCanceled ? 50 : Timeout.Infinite);
            }
            // Cancelled: the episodes reported so far are the run (those in flight finish unreported).
            if (cancel.IsCancellationRequested)
            {
                workers.ForEach(t => t.Join());
                return new FuzzReport(total.Ops, episode, null, total, Interrupted: true);
            }
            var outcome = ready!;
            lock (gate)
            {
                outcomes[episode] = EpisodeOutcome.Reported;   // its lines are no longer needed
            }
            done += OpsOf(episode);
            if (outcome.Tally != null) total.Merge(outcome.Tally);
            progress?.Invoke(done);
            if (!outcome.Failed) continue;
            Interlocked.Exchange(ref firstFailure, episode);
            workers.ForEach(t => t.Join());
            if (outcome.Error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(outcome.Error);
            var shrunk = Shrink(outcome.Lines!, Kind(outcome.Reason!));
            return new FuzzReport(total.Ops, episode + 1, new FuzzFailure(SeedOf(episode), outcome.Reason!, string.Join('\n', shrunk) + "\n", outcome.Lines!.Count), total);
        }
        workers.ForEach(t => t.Join());
        return new FuzzReport(total.Ops, episodes, null, total);
    }

    /// <summary>How one episode ended: its lines and reason when it failed, or the exception that escaped it.</summary>
    sealed record EpisodeOutcome(List<string>? Lines, string? Reason, Exception? Error, FuzzTally? Tally)
    {
        public static readonly EpisodeOutcome Reported = new(null, null, null, null);
        public bool Failed => Reason != null || Error != null;
    }

    /// <summary>Generates and runs one episode; returns its lines and the first failure, if any (what ran is added to <paramref name="tally"/>).</summary>
    /// <paramref name="closing"/> writes the closing lines from the final state (default: <c>intact</c> of every live region).
    public static (List<string> Lines, string? Failure) RunEpisode(ulong seed, int ops, InvariantChecker? checker = null, FuzzTally? tally = null,
        GeneratorProfile? profile = null, Func<ScenarioGenerator, ScenarioSession, IEnumerable<string>>? closing = null)
    {
        checker ??= new InvariantChecker();
        var gen = new ScenarioGenerator(seed, profile);
        var parser = ScenarioParser.Incremental("fuzz.mthp");
        var lines = new List<string>();
        var result = new RunResult { File = "fuzz.mthp" };
        var prologue = gen.Prologue().ToList();
        var prepared = ScenarioRunner.Prepare("fuzz.mthp", prologue[0] + "\n", result)
            ?? throw new InvalidOperationException("the fuzzer's machine line is invalid");
        var session = prepared.Session;
        var reference = new ContentReference();
        var quiet = new RunOptions();
        string? Step(string line)
        {
            lines.Add(line);
            var (stmt, err) = parser.ParseNext(line);
            if (err != null) return $"generator produced an invalid line: {err}";
            if (stmt == null) return null;
            try
            {
                reference.Before(session, stmt);
                ScenarioRunner.Execute(session, stmt, result, quiet);
            }
            catch (ScenarioRuntimeException e) { return e.ToString(); }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or KeyNotFoundException or NullReferenceException)
            {
                return $"line {lines.Count}: {e.GetType().Name}: {e.Message}";
            }
            // Only an expect adds a result, and the episode ends at the first that fails.
            if (result.Expectations.Count > 0 && !result.Expectations[^1].Passed) return result.Expectations[^1].Describe();
            var violations = checker.Run(session.Kernel);
            if (violations.Count > 0) return $"line {lines.Count}: invariant violated after '{line}':\n    " + string.Join("\n    ", violations.Take(10));
            return reference.After(session, stmt) is string differs ? $"line {lines.Count}: content differs after '{line}':\n    {differs}" : null;
        }
        foreach (var line in prologue)
            if (Step(line) is string f) return (lines, f);
        gen.OnPrologueRun();
        for (int i = 0; i < ops; i++)
        {
            string line = gen.Next(session);
            gen.BeforeRun(line);
            string? failed = Step(line);
            if (tally != null)
            {
                tally.Ops++;
                tally.Count(line, session.Rc);
            }
            if (failed != null) return (lines, failed);
            gen.Observe(session);
        }
        tally?.Cover(session.Kernel);
        foreach (var line in (closing?.Invoke(gen, session) ?? gen.Epilogue(session)).ToList())
            if (Step(line) is string f) return (lines, f);
        return (lines, null);
    }

    /// <summary>The kind of a failure, which shrinking must keep (not any failure: a removed mmap makes others).</summary>
    static string Kind(string reason) =>
        reason.Contains("invariant violated") ? "invariant violated"
        : reason.Contains("content differs") ? "content differs"
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
        if (!Fails(lines, kind)) return lines;   // not reproducible from text alone: keep it whole
        var head = lines.Take(1).ToList();
        return head.Concat(Minimize(lines.Skip(1).ToList(), body => Fails(head.Concat(body).ToList(), kind))).ToList();
    }

    /// <summary>
    /// Delta debugging (ddmin): removes chunks of <paramref name="body"/>, halving their size when no
    /// chunk can go, as long as <paramref name="fails"/> still holds; <paramref name="body"/> must fail.
    /// </summary>
    public static List<string> Minimize(List<string> body, Func<List<string>, bool> fails)
    {
        int chunks = 2;
        while (body.Count >= 2)
        {
            int size = (body.Count + chunks - 1) / chunks;
            bool reduced = false;
            for (int start = 0; start < body.Count; start += size)
            {
                var candidate = body.Take(start).Concat(body.Skip(start + size)).ToList();
                if (fails(candidate))
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
        return body;
    }
}
