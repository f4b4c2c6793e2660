using System.Diagnostics;
using System.Globalization;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;
using MthpSim.Trace.Format;
using MthpSim.Trace.Record;
using MthpSim.Trace.Truth;

namespace MthpSim.Oracle.Record;

/// <summary>One run for the truth: the settings changed from those found (none: as found), written to <see cref="FileName"/>.</summary>
public sealed record TruthRun(string Name, IReadOnlyList<KeyValuePair<string, string>> Sets)
{
    public string FileName => Name == "truth" ? TraceRecorder.TruthFileName : $"truth-{Name}.json";
}

/// <summary>What to record: the program, where to, and the THP settings of each truth run.</summary>
public sealed record RecordRequest(string OutputDir, IReadOnlyList<string> Command, IReadOnlyList<TruthRun> Truths, bool KeepPerfData)
{
    /// <summary>Settings for the traced run and the truth runs alike (khugepaged's, say); the traced run's mTHP sizes stay off whatever they say.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> TracedSets { get; init; } = [];
}

/// <summary>What a recording produced.</summary>
public sealed record RecordOutcome(string TracePath, string RecordedCensusPath, IReadOnlyList<string> TruthPaths, TraceConversion.Outcome Conversion, long PerfLostSamples, int? ExitStatus, int? ExitSignal);

/// <summary>A recording that cannot start (no perf, not root, no such program, a bad setting): exit 2 with this reason.</summary>
public sealed class RecordRefusedException(string reason) : Exception(reason);

/// <summary>A signal stopped the recording; the program was killed and the THP settings restored first. Exit 128 + the signal's number.</summary>
public sealed class RecordInterruptedException(System.Runtime.InteropServices.PosixSignal signal)
    : Exception($"interrupted by {signal}; THP settings restored")
{
    public int ExitStatus { get; } = SettingsGuard.ExitStatus(signal);
}

/// <summary>
/// Records a program on the live machine. The program runs under perf (the trace)
/// with every anonymous and shmem mTHP size off, so that every first touch faults, and, with
/// --truth, once more under the requested settings without perf (the truth). Both runs start it
/// through mthp_exit_census, which turns ASLR off and counts each process's folios as it exits.
/// THP settings are saved, changed and restored exactly as the oracle does, under its lock.
/// </summary>
public static class TraceRecorder
{
    public const string TraceFileName = "trace.mtrace";
    public const string TruthFileName = "truth.json";
    /// <summary>The census of the recorded run itself (every size off): what a replay of the trace under those settings must give.</summary>
    public const string RecordedCensusFileName = "recorded.truth.json";

    public static RecordOutcome Run(RecordRequest req, TextWriter log)
    {
        if (req.Command.Count == 0) throw new RecordRefusedException("no command to record (mthpsim record [-o DIR] -- CMD ARGS...)");
        if (!Environment.IsPrivilegedProcess) throw new RecordRefusedException("recording needs root (perf's tracepoints, /proc/kpageflags, the THP settings)");
        string perf = FindOnPath("perf") ?? throw new RecordRefusedException("perf is not installed (Debian: apt install linux-perf)");
        if (ResolveProgram(req.Command[0]) == null) throw new RecordRefusedException($"{req.Command[0]}: command not found");
        var live = new LiveSettings();
        var known = live.SettingFiles();
        foreach (var (k, _) in req.Truths.SelectMany(t => t.Sets).Concat(req.TracedSets))
            if (!known.Contains(k)) throw new RecordRefusedException($"--set {k}: no such setting under {LiveSettings.Root}");
        if (req.Truths.Select(t => t.FileName).Distinct().Count() != req.Truths.Count) throw new RecordRefusedException("two truth runs share a name");
        string census;
        try { census = DriverBuilder.Ensure(typeof(TraceRecorder).Assembly, "mthp_exit_census"); }
        catch (OracleUnavailableException e) { throw new RecordRefusedException(e.Message); }

        Directory.CreateDirectory(req.OutputDir);
        string perfData = Path.Combine(req.OutputDir, "perf.data");
        string recordedCensus = Path.Combine(req.OutputDir, "recorded.census.txt");
        string recordedEnv = Path.Combine(req.OutputDir, "recorded.environ");
        Dictionary<string, string> found, off;
        string tracePath = Path.Combine(req.OutputDir, TraceFileName);
        TraceConversion.Outcome conv;
        var truths = new List<(TruthRun Run, Dictionary<string, string> Settings, string CensusPath, SortedDictionary<string, long> Deltas)>();
        using (RunLock.Acquire())
        {
            if (live.JournalExists && live.RestoreFromJournal() is { Count: > 0 } left)
                throw new RecordRefusedException($"could not restore THP settings left by an interrupted run: {string.Join("; ", left)}");
            using var guard = new SettingsGuard(live);
            found = live.Snapshot();
            foreach (var (k, v) in req.TracedSets) found[k] = v;
            off = new Dictionary<string, string>(found);
            foreach (var f in known.Where(IsSizeSetting)) off[f] = "never";
            Apply(live, off);
            log.WriteLine($"mthpsim record: recording {string.Join(' ', req.Command)} with every mTHP size off");
            // MTHP_CENSUS_VMAS=FILE (for finding where a replay differs): each run's census lists every VMA's pages there
            string? vmas = Environment.GetEnvironmentVariable("MTHP_CENSUS_VMAS");
            var recordedVars = new Dictionary<string, string> { ["MTHP_CENSUS_ENV"] = recordedEnv };
            if (vmas != null) recordedVars["MTHP_CENSUS_VMAS"] = vmas + ".recorded";
            RestartKhugepagedSleep(live);
            RunProgram(perf, PerfRecipe.RecordArgs(perfData, [census, recordedCensus, .. req.Command]), guard, recordedVars);
            var header = TraceConversion.HostHeader();
            header["command"] = string.Join(' ', req.Command);
            header["kernel"] = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
            header["recorded-with"] = "every anonymous and shmem mTHP size never";
            // a replay's default settings: the first truth run's, or those found
            var first = new Dictionary<string, string>(found);
            foreach (var (k, v) in req.Truths.FirstOrDefault()?.Sets ?? []) first[k] = v;
            foreach (var (k, v) in first.OrderBy(kv => known.IndexOf(kv.Key))) header["thp." + k] = v;
            var files = new List<string>();
            conv = Convert(perf, perfData, tracePath, header, census, files);
            SettlePageCache(files, log);
            foreach (var run in req.Truths)
            {
                var target = new Dictionary<string, string>(found);
                foreach (var (k, v) in run.Sets) target[k] = v;
                Apply(live, target);
                log.WriteLine($"mthpsim record: running it again for {run.FileName} under {Describe(target, off)}");
                var before = Counters();
                // the environment the program had under perf: the same variables, so the same allocations
                var env = ReadEnviron(recordedEnv);
                if (vmas != null) env["MTHP_CENSUS_VMAS"] = $"{vmas}.{run.Name}";
                string censusPath = Path.Combine(req.OutputDir, $"{run.Name}.census.txt");
                RestartKhugepagedSleep(live);
                RunProgram(census, [censusPath, .. req.Command], guard, env, replaceEnv: true);
                var deltas = new SortedDictionary<string, long>(StringComparer.Ordinal);
                foreach (var (k, v) in Counters()) if (v - before.GetValueOrDefault(k) is long d && d != 0) deltas[k] = d;
                truths.Add((run, target, censusPath, deltas));
            }
            if (guard.Restore() is { Count: > 0 } failed) throw new InvalidOperationException($"could not restore THP settings: {string.Join("; ", failed)}");
        }

        var recorded = ExitCensus.Parse(ReadLines(recordedCensus));
        if (recorded.ExecErrno is int errno) throw new RecordRefusedException($"{req.Command[0]}: cannot run it (errno {errno})");
        long lostSamples = LostSamples(perf, perfData);
        string recordedPath = Path.Combine(req.OutputDir, RecordedCensusFileName);
        Truth(req, off, recorded, []).Save(recordedPath);
        var truthPaths = new List<string>();
        foreach (var (run, settings, censusPath, deltas) in truths)
        {
            string path = Path.Combine(req.OutputDir, run.FileName);
            Truth(req, settings, ExitCensus.Parse(ReadLines(censusPath)), deltas).Save(path);
            truthPaths.Add(path);
        }
        if (!req.KeepPerfData) foreach (var f in truths.Select(t => t.CensusPath).Concat([perfData, recordedCensus, recordedEnv])) File.Delete(f);
        return new RecordOutcome(tracePath, recordedPath, truthPaths, conv, lostSamples, recorded.ExitStatus, recorded.ExitSignal);
    }

    /// <summary>perf script into the trace file; the files the program mapped are added to <paramref name="files"/>.</summary>
    static TraceConversion.Outcome Convert(string perf, string perfData, string tracePath, TraceHeader header, string census, List<string> files)
    {
        var script = Process.Start(new ProcessStartInfo(perf, PerfRecipe.ScriptArgs(perfData)) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("perf script did not start");
        var scriptErr = script.StandardError.ReadToEndAsync();
        TraceConversion.Outcome conv;
        using (var w = TraceWriter.Create(tracePath, header))
            conv = TraceConversion.Convert(script.StandardOutput, w, ["setarch", "mthp_exit_census", Path.GetFileName(census)],
                path => TraceConversion.FileSizeOnHost(path) is long size ? Added(files, path, size) : null);
        script.WaitForExit();
        if (script.ExitCode != 0) throw new InvalidOperationException($"perf script failed: {scriptErr.Result.Trim()}");
        return conv;
    }

    static long Added(List<string> files, string path, long size) { files.Add(path); return size; }

    /// <summary>
    /// Reads every file the program mapped, whole. A read clears the read-ahead marks
    /// (<c>PG_readahead</c>) earlier read-ahead left in the page cache, which fault-around skips
    /// (<c>next_uptodate_folio()</c>), and caches what was not: the truth runs then find the files
    /// as a replay assumes them, cached whole and unmarked, instead of in a state the page cache's
    /// history left them in.
    /// </summary>
    static void SettlePageCache(List<string> files, TextWriter log)
    {
        var buf = new byte[1 << 20];
        foreach (var f in files)
        {
            try
            {
                using var s = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
                while (s.Read(buf) > 0) { }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { log.WriteLine($"mthpsim record: could not read {f} ({e.Message})"); }
        }
    }

    static TruthFile Truth(RecordRequest req, Dictionary<string, string> settings, ExitCensus.Result census, SortedDictionary<string, long> deltas) => new()
    {
        Command = [.. req.Command],
        Kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim(),
        Settings = new(settings, StringComparer.Ordinal),
        ExitStatus = census.ExitStatus,
        ExitSignal = census.ExitSignal,
        Processes = census.Processes,
        CounterDeltas = deltas,
    };

    static string Describe(Dictionary<string, string> target, Dictionary<string, string> off) =>
        string.Join(' ', target.Where(kv => off[kv.Key] != kv.Value).Select(kv => $"{kv.Key}={kv.Value}")) is { Length: > 0 } s ? s : "the same settings";

    /// <summary>The settings that decide folio sizes at fault time, all <c>never</c> while a trace is recorded.</summary>
    public static bool IsSizeSetting(string file) =>
        (file.StartsWith("hugepages-", StringComparison.Ordinal) && (file.EndsWith("/enabled", StringComparison.Ordinal) || file.EndsWith("/shmem_enabled", StringComparison.Ordinal)))
        || file == "shmem_enabled";

    /// <summary>
    /// Writing scan_sleep_millisecs (its own value) ends khugepaged's sleep: it scans at once, before
    /// the program starts, and then sleeps the full time. So the program starts at the same point of
    /// khugepaged's cycle in every run, and the one a replay assumes (asleep from the start), instead
    /// of wherever the cycle happened to be (a collapse in some runs and not in others).
    /// </summary>
    static void RestartKhugepagedSleep(LiveSettings live)
    {
        const string file = "khugepaged/scan_sleep_millisecs";
        if (live.Write(file, live.Read(file)) is string err) throw new InvalidOperationException($"could not write {file}: {err}");
        Thread.Sleep(50);   // the pass it starts is over before the program runs
    }

    static void Apply(LiveSettings live, Dictionary<string, string> values)
    {
        var failed = live.Apply(values);
        if (failed.Count > 0) throw new InvalidOperationException($"could not set THP settings: {string.Join("; ", failed)}");
    }

    /// <summary>Runs a program with the terminal as its standard streams; a signal to us stops it and restores the settings first.</summary>
    static void RunProgram(string file, List<string> args, SettingsGuard guard, Dictionary<string, string> env, bool replaceEnv = false)
    {
        var psi = new ProcessStartInfo(file, args) { UseShellExecute = false };
        if (replaceEnv) psi.Environment.Clear();
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        guard.OnBeforeRestore(() => { if (!p.HasExited) p.Kill(entireProcessTree: true); });
        p.WaitForExit();
        if (guard.Interrupted is { } sig) throw new RecordInterruptedException(sig);
    }

    /// <summary>perf's count of samples it could not write (LOST_SAMPLES in --stats).</summary>
    static long LostSamples(string perf, string perfData)
    {
        var p = Process.Start(new ProcessStartInfo(perf, PerfRecipe.StatsArgs(perfData)) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string text = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        long lost = 0;
        foreach (var line in text.Split('\n').Where(l => l.Contains("LOST", StringComparison.Ordinal)))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 2 && long.TryParse(words[^2], CultureInfo.InvariantCulture, out long n)) lost += n;
        }
        return lost;
    }

    /// <summary>Per-size stats and vmstat's thp_ counters of the live machine.</summary>
    static Dictionary<string, long> Counters()
    {
        var d = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(LiveSettings.Root, "hugepages-*"))
            foreach (var f in Directory.EnumerateFiles(Path.Combine(dir, "stats")))
                if (long.TryParse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture, out long v)) d[$"{Path.GetFileName(dir)}/stats/{Path.GetFileName(f)}"] = v;
        foreach (var line in File.ReadLines("/proc/vmstat"))
        {
            var w = line.Split(' ');
            if (w.Length == 2 && w[0].StartsWith("thp_", StringComparison.Ordinal) && long.TryParse(w[1], CultureInfo.InvariantCulture, out long v)) d[w[0]] = v;
        }
        return d;
    }

    static Dictionary<string, string> ReadEnviron(string path)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in File.ReadAllText(path).Split('\0', StringSplitOptions.RemoveEmptyEntries))
            if (kv.IndexOf('=') is int eq and > 0) d[kv[..eq]] = kv[(eq + 1)..];
        return d;
    }

    static IEnumerable<string> ReadLines(string path) => File.Exists(path) ? File.ReadAllLines(path) : [];

    static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    static string? ResolveProgram(string cmd) => cmd.Contains('/') ? (File.Exists(cmd) ? cmd : null) : FindOnPath(cmd);
}
