using System.Globalization;
using MthpSim.Core;
using MthpSim.Oracle.Compare;
using MthpSim.Oracle.Settings;
using MthpSim.Scenario.Fuzz;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Oracle.Fuzz;

/// <summary>A confirmed disagreement: the observable, both values, and the smallest scenario that still shows it.</summary>
public sealed record OracleFinding(int Scenario, ulong Seed, string Observable, string Live, string Simulator, string Minimal);

/// <summary>How the expectations of one kind of observable fared.</summary>
public sealed class ObservableTally
{
    public long Checked, Agreed, Disagreed, Noise;
}

/// <summary>What an oracle fuzz run found.</summary>
public sealed class OracleFuzzReport
{
    public int Scenarios;
    public SortedDictionary<string, ObservableTally> ByKind { get; } = new(StringComparer.Ordinal);
    public List<OracleFinding> Findings { get; } = new();
    /// <summary>Scenarios that could not be compared (the simulator failed its own checks, or the live side failed), with why.</summary>
    public List<string> Errors { get; } = new();
    public string? Unavailable;
    public int? InterruptedStatus;
}

/// <summary>
/// Differential testing against the live kernel: random scenarios of what the live side can
/// reproduce, closed by expectations over every per-process observable (with the simulator's values)
/// and the per-size counters no other process can move, each run through the oracle. A disagreement
/// is run again to rule out noise, then shrunk by delta debugging to a scenario ready for
/// <c>tests/oracle/regressions/</c>.
/// </summary>
public static class OracleFuzzer
{
    /// <summary>
    /// smaps fields compared. Left out by rule: LazyFree (MADV_FREE moves folios to the lazyfree LRU
    /// through per-CPU batches, so the live value lags by up to a batch); Referenced (PG_referenced
    /// after repeated folio_mark_accessed() depends on whether the folio still sits in a per-CPU LRU
    /// batch, and khugepaged and reclaim running in the background leave pages referenced now and
    /// then: measured flaky even three runs in a row; tests/oracle/regressions/referenced-by-gup.mthp
    /// checks it where it is deterministic); the fields this model has no such memory for (KSM,
    /// hugetlb, swap, Locked, FilePmdMapped).
    /// </summary>
    static readonly string[] SmapsFields =
    [
        "Size", "Rss", "Pss", "Pss_Dirty", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
        "Anonymous", "AnonHugePages", "ShmemPmdMapped", "THPeligible",
    ];

    /// <summary>Runs in a row a disagreement must reproduce in to count as confirmed (the first included).</summary>
    const int ConfirmRuns = 3;

    /// <summary>Per-size counters compared, for sizes no other process can allocate during the scenario.</summary>
    static readonly string[] SizeStats = ["anon_fault_alloc", "anon_fault_fallback", "split", "split_deferred", "split_failed", "nr_anon", "nr_anon_partially_mapped"];

    /// <summary>What scenarios with swap (<c>--swap</c>) compare besides.</summary>
    static readonly string[] SwapSmapsFields = ["Swap", "SwapPss"], SwapSizeStats = ["swpout", "swpout_fallback", "swpin", "swpin_fallback"];

    const int SampledPagesPerRegion = 4;

    /// <summary>Runs scenarios <paramref name="start"/> to <paramref name="start"/> + <paramref name="scenarios"/> - 1 of the seed.</summary>
    /// <param name="cancel">Ends the run before the next live run (Ctrl-C between runs; during one, the oracle's own signal handling restores the settings and ends it).</param>
    /// <param name="stream">Which scenarios: plain, with zram swap (pageout and cold), or with memory cgroups (each a stream of its own).</param>
    public static OracleFuzzReport Run(int scenarios, ulong seed, int ops, bool shrink, Action<string>? progress = null, Action<OracleFinding>? found = null,
        int start = 0, CancellationToken cancel = default, OracleFuzzStream stream = OracleFuzzStream.Plain)
    {
        var report = new OracleFuzzReport();
        try { RunScenarios(report, start, scenarios, seed, ops, shrink, progress, found, cancel, stream); }
        catch (Interrupted e) { report.InterruptedStatus = e.Status; }
        return report;
    }

    /// <summary>A signal stopped a live run (its settings are restored): the whole fuzz run ends.</summary>
    sealed class Interrupted(int status) : Exception { public int Status { get; } = status; }

    static OracleResult RunLive(string name, string text, CancellationToken cancel)
    {
        if (cancel.IsCancellationRequested) throw new Interrupted(SettingsGuard.ExitStatus(System.Runtime.InteropServices.PosixSignal.SIGINT));
        var r = OracleRunner.Run(name, text);
        return r.InterruptedStatus is int status ? throw new Interrupted(status) : r;
    }

    /// <summary>The text of scenario <paramref name="index"/> of a seed, as the run generates it (no live kernel needed).</summary>
    public static string ScenarioText(ulong seed, int index, int ops, OracleFuzzStream stream = OracleFuzzStream.Plain) => Text(Generate(seed, index, ops, stream).Lines);

    /// <summary>The file name of scenario <paramref name="index"/> of a seed in a stream.</summary>
    public static string ScenarioName(ulong seed, int index, OracleFuzzStream stream) => stream switch
    {
        OracleFuzzStream.Swap => $"oracle-fuzz-swap-{seed}-{index}.mthp",
        OracleFuzzStream.Cgroups => $"oracle-fuzz-cgroups-{seed}-{index}.mthp",
        OracleFuzzStream.SwapCgroups => $"oracle-fuzz-swap-cgroups-{seed}-{index}.mthp",
        _ => $"oracle-fuzz-{seed}-{index}.mthp",
    };

    static (List<string> Lines, string? Failure) Generate(ulong seed, int index, int ops, OracleFuzzStream stream)
    {
        ulong scenarioSeed = ScenarioSeed(seed, index);
        var profile = stream switch
        {
            OracleFuzzStream.Swap => GeneratorProfile.LiveSwap,
            OracleFuzzStream.Cgroups => GeneratorProfile.LiveCgroups,
            OracleFuzzStream.SwapCgroups => GeneratorProfile.LiveSwapCgroups,
            _ => GeneratorProfile.Live,
        };
        return Fuzzer.RunEpisode(scenarioSeed, ops, profile: profile, closing: (gen, s) => Closing(gen, s, scenarioSeed, stream));
    }

    static ulong ScenarioSeed(ulong seed, int index) => seed * 0x100000001B3UL + (ulong)index;

    static void RunScenarios(OracleFuzzReport report, int start, int scenarios, ulong seed, int ops, bool shrink, Action<string>? progress, Action<OracleFinding>? found, CancellationToken cancel, OracleFuzzStream stream)
    {
        for (int i = start; i < start + scenarios; i++)
        {
            ulong scenarioSeed = ScenarioSeed(seed, i);
            var (lines, simFailure) = Generate(seed, i, ops, stream);
            string name = ScenarioName(seed, i, stream);
            if (simFailure != null)
            {
                report.Errors.Add($"{name}: the simulator failed its own checks: {simFailure}");
                continue;
            }
            var first = RunLive(name, Text(lines), cancel);
            if (first.Unavailable != null) { report.Unavailable = first.Unavailable; return; }
            report.Scenarios++;
            if (first.Aborted != null || first.Invalid.Count > 0)
            {
                report.Errors.Add($"{name}: {first.Aborted ?? string.Join("; ", first.Invalid)}");
                continue;
            }
            var disagreeing = first.Expectations.Where(e => !e.Agrees).ToDictionary(e => e.Line, e => e.Live.Observed);
            // Again, to tell a disagreement that reproduces from noise: the same live value each time
            // (reclaim's choice among active pages varies from run to run, and so does what it leaves).
            var confirmed = new HashSet<int>(disagreeing.Keys);
            for (int run = 1; run < ConfirmRuns && confirmed.Count > 0; run++)
                confirmed.IntersectWith(RunLive(name, Text(lines), cancel).Expectations
                    .Where(e => !e.Agrees && disagreeing.TryGetValue(e.Line, out var live) && live == e.Live.Observed).Select(e => e.Line));
            foreach (var e in first.Expectations)
            {
                var t = Tally(report, KindOf(e.Observable));
                t.Checked++;
                if (!disagreeing.ContainsKey(e.Line)) t.Agreed++;
                else if (confirmed.Contains(e.Line)) t.Disagreed++;
                else t.Noise++;
            }
            progress?.Invoke($"oracle fuzz: scenario {i} ({i - start + 1} of {scenarios}): {first.Expectations.Count} expectations, {confirmed.Count} disagree");
            // One finding per kind of observable and scenario: the others are usually the same cause.
            foreach (var e in first.Expectations.Where(e => confirmed.Contains(e.Line)).DistinctBy(e => KindOf(e.Observable)))
            {
                var finding = Finding(i, scenarioSeed, name, lines, e, shrink, cancel);
                report.Findings.Add(finding);
                found?.Invoke(finding);
            }
        }
    }

    static string Text(IEnumerable<string> lines) => string.Join('\n', lines) + "\n";

    static ObservableTally Tally(OracleFuzzReport r, string kind)
    {
        if (!r.ByKind.TryGetValue(kind, out var t)) r.ByKind[kind] = t = new ObservableTally();
        return t;
    }

    /// <summary>The row of the summary an observable counts under: smaps by field, thpmaps, folio order/kind, intact, file attributes, per-size counters by name.</summary>
    public static string KindOf(string observable)
    {
        var w = observable.Split(' ');
        return w switch
        {
            ["file", _, "folio", _, var attr] => $"file folio {attr}",
            ["file", _, var attr] => $"file {attr}",
            [_, "smaps", _, var field] => $"smaps {field}",
            [_, "thpmaps", ..] => "thpmaps",
            [_, "folio", _, _, var attr] => $"folio {attr}",
            [_, "intact", _] => "intact",
            ["sysfs", var path] => $"stats {path[(path.LastIndexOf('/') + 1)..]}",
            _ => w.Length > 1 ? w[1] : observable,
        };
    }

    /// <summary>The closing expectations, with the simulator's values.</summary>
    static IEnumerable<string> Closing(ScenarioGenerator gen, ScenarioSession s, ulong seed, OracleFuzzStream stream)
    {
        bool swap = stream is OracleFuzzStream.Swap or OracleFuzzStream.SwapCgroups;
        var rng = new SplitMix64(seed ^ 0x5DEECE66DUL);
        var at = default(SourceSpan);
        var k = s.Kernel;
        long pageKb = k.Geo.PageSize >> 10;
        var observables = new List<Observable>();
        var intact = new List<Observable>();
        foreach (var (p, r) in gen.LiveRegions())
        {
            observables.AddRange(SmapsFields.Concat(swap ? SwapSmapsFields : []).Select(f => new SmapsObs(at, p, r, f, at)));
            observables.AddRange(MthpSim.Core.Proc.ThpmapsCalculator.Keys(k.Geo.PmdOrder, pageKb).Keys.Select(key => new ThpmapsObs(at, p, r, key, at)));
            long pages = (long)(s.Region(p, r, at).Length / (ulong)k.Geo.PageSize);
            foreach (long page in Enumerable.Range(0, SampledPagesPerRegion).Select(i => i == 0 ? 0 : rng.Below((int)Math.Min(pages, int.MaxValue))).Distinct())
            {
                observables.Add(new FolioObs(at, p, r, page * k.Geo.PageSize, FolioAttr.Order));
                observables.Add(new FolioObs(at, p, r, page * k.Geo.PageSize, FolioAttr.Kind));
            }
            // Last: the live side reads the pages back through /proc/self/mem, which is GUP with
            // FOLL_TOUCH and marks their folios referenced.
            intact.Add(new IntactObs(at, p, r));
        }
        // Files: size and blocks (fstat), and which page-cache folio kind sits at sampled offsets. Not the
        // order: the live side cannot see the order of a fallocated folio nobody has written.
        foreach (var f in gen.LiveFiles)
        {
            observables.Add(new FileObs(at, f, FileAttr.Size, 0));
            observables.Add(new FileObs(at, f, FileAttr.Blocks, 0));
            long pages = Math.Max(1, s.File(f, at).Size / k.Geo.PageSize);
            foreach (long page in Enumerable.Range(0, SampledPagesPerRegion).Select(i => i == 0 ? 0 : rng.Below((int)Math.Min(pages, int.MaxValue))).Distinct())
                observables.Add(new FileObs(at, f, FileAttr.FolioKind, page * k.Geo.PageSize));
        }
        // Fault counts of every process still alive: how many faults each path takes, before the
        // read-back below (its GUP faults would count).
        foreach (var p in gen.LiveProcesses)
            observables.AddRange([new FaultCountObs(at, p, false), new FaultCountObs(at, p, true)]);
        // With cgroups: who the OOM killer took, and how many.
        if (stream is OracleFuzzStream.Cgroups or OracleFuzzStream.SwapCgroups)
        {
            observables.AddRange(gen.AllProcesses.Select(p => new AliveObs(at, p)));
            observables.Add(new VmstatObs(at, "oom_kill", at));
        }
        foreach (long sizeKb in PrivateSizes(k, gen.Lines))
            observables.AddRange(SizeStats.Concat(swap ? SwapSizeStats : []).Select(stat => new SysfsObs(at, $"hugepages-{sizeKb}kB/stats/{stat}", at)));
        foreach (var o in observables.Concat(intact))
        {
            ObservedValue v;
            try { v = ObservableEvaluator.Evaluate(s, o); }
            catch (ScenarioRuntimeException) { continue; }
            yield return $"expect {o} == {v}";
        }
    }

    /// <summary>
    /// Sizes (kB) that are never "always" during the scenario (per size, or by inheriting a global
    /// "always"): the live machine's other processes cannot fault them in, so their counters are the scenario's.
    /// </summary>
    internal static IEnumerable<long> PrivateSizes(Kernel k, IReadOnlyList<string> lines)
    {
        long pageKb = k.Geo.PageSize >> 10;
        var sizes = Enumerable.Range(2, k.Geo.PmdOrder - 1).Select(o => pageKb << o).ToList();
        // The oracle starts from the simulator's defaults: enabled=always, the PMD size inherits, the rest never.
        string global = "always";
        var mode = sizes.ToDictionary(kb => kb, kb => kb == pageKb << k.Geo.PmdOrder ? "inherit" : "never");
        var shared = new HashSet<long>();
        void Note() { foreach (var kb in sizes) if (mode[kb] == "always" || (mode[kb] == "inherit" && global == "always")) shared.Add(kb); }
        Note();
        foreach (var line in lines)
        {
            var w = line.Split(' ');
            if (w is not ["sysfs", var path, "=", var value]) continue;
            if (path == "enabled") global = value;
            else if (path.StartsWith("hugepages-", StringComparison.Ordinal) && path.EndsWith("kB/enabled", StringComparison.Ordinal)
                     && long.TryParse(path["hugepages-".Length..path.IndexOf("kB", StringComparison.Ordinal)], CultureInfo.InvariantCulture, out long kb) && mode.ContainsKey(kb))
                mode[kb] = value;
            Note();
        }
        return sizes.Where(kb => !shared.Contains(kb));
    }

    /// <summary>Shrinks a scenario to the statements the disagreement needs, keeping only its expectation, with the live value as the expected one.</summary>
    static OracleFinding Finding(int index, ulong seed, string name, List<string> lines, OracleExpectation e, bool shrink, CancellationToken cancel)
    {
        string expectLine = $"expect {e.Observable} == 0";
        var head = lines.Take(1).ToList();
        var body = lines.Skip(1).Where(l => !l.StartsWith("expect ", StringComparison.Ordinal)).ToList();
        bool DisagreesOnce(List<string> candidate)
        {
            var r = RunLive(name, Text(head.Concat(candidate).Append(expectLine)), cancel);
            return r.Unavailable == null && r.Aborted == null && r.Invalid.Count == 0
                && r.Expectations.Any(x => x.Observable == e.Observable && x.Live.Observed != x.Sim.Observed);
        }
        var minimal = shrink ? ShrinkConfirmed(body, DisagreesOnce) : body;
        var last = RunLive(name, Text(head.Concat(minimal).Append(expectLine)), cancel);
        var shown = last.Expectations.FirstOrDefault(x => x.Observable == e.Observable) is { } x2 ? x2 : e;
        string agreed = shown.Live.Observed == shown.Sim.Observed ? " (both sides agreed on this last run: the disagreement comes and goes)" : "";
        string text = $"# mthpsim oracle fuzz, scenario {index} (seed {seed}): live {shown.Live.Observed}, simulator {shown.Sim.Observed}{agreed}\n"
            + Text(head.Concat(minimal).Append($"expect {e.Observable} == {Rhs(shown.Live.Observed)}"));
        return new OracleFinding(index, seed, e.Observable, shown.Live.Observed, shown.Sim.Observed, text);
    }

    /// <summary>
    /// Delta debugging over live runs: a smaller scenario is kept only when two runs in a row
    /// disagree. With one run, a disagreement live noise showed once led a shrink (141/3 of the
    /// <c>--swap --cgroups</c> stream) to a scenario on which both sides agree.
    /// </summary>
    internal static List<string> ShrinkConfirmed(List<string> body, Func<List<string>, bool> disagreesOnce)
    {
        bool Confirmed(List<string> candidate) => disagreesOnce(candidate) && disagreesOnce(candidate);
        return Confirmed(body) ? Fuzzer.Minimize(body, Confirmed) : body;
    }

    /// <summary>An observed value as an expectation's right-hand side ("1024 kB" is written 1024: kB-valued observables compare in kB).</summary>
    static string Rhs(string observed) => observed.Split(' ')[0];
}

/// <summary>The scenario streams of <c>oracle fuzz</c>: each generates scenarios of its own from a seed.</summary>
public enum OracleFuzzStream { Plain, Swap, Cgroups, SwapCgroups }
