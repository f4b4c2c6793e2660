using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MthpSim.Oracle.Compare;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;

namespace MthpSim.Bench.Live;

/// <summary>
/// The live kernel's side of <c>mthpsim bench --vs-kernel</c>: runs <c>mthp_bench</c> (built with gcc
/// on first use, as the oracle's driver is) under a pattern's THP settings. As the oracle does, each
/// measurement holds the machine-wide run lock, journals the settings before changing them and
/// restores them on every way out (a <see cref="SettingsGuard"/>: normal end, exception, SIGINT,
/// SIGTERM, SIGHUP). The lock and the changed settings last only for one measurement, so the
/// simulator's side never runs under them and other live runs wait at most one measurement.
/// </summary>
public sealed class LiveBench
{
    readonly LiveSettings _live;
    readonly string _binary;

    public string KernelRelease { get; }
    /// <summary>The signal that interrupted a measurement (settings already restored); the run should end with its status.</summary>
    public PosixSignal? Interrupted { get; private set; }

    LiveBench(LiveSettings live, string binary, string release)
    {
        _live = live;
        _binary = binary;
        KernelRelease = release;
    }

    /// <summary>
    /// Checks that the live kernel can run <paramref name="patterns"/> and builds the program;
    /// throws <see cref="OracleUnavailableException"/> with the reason when it cannot.
    /// </summary>
    public static LiveBench Open(IEnumerable<BenchPattern> patterns)
    {
        if (!OperatingSystem.IsLinux()) throw new OracleUnavailableException("the live kernel must be Linux");
        if (RuntimeInformation.OSArchitecture != Architecture.X64 || Environment.SystemPageSize != BenchMachine.PageSize)
            throw new OracleUnavailableException("the suite models x86_64 with 4K pages; this machine is not one");
        var live = new LiveSettings();
        if (!Environment.IsPrivilegedProcess) throw new OracleUnavailableException("the live kernel needs root (to set THP settings)");
        if (!Directory.Exists(LiveSettings.Root)) throw new OracleUnavailableException($"{LiveSettings.Root} does not exist: this kernel has no THP");
        if (live.JournalExists)
        {
            // An interrupted oracle or bench run left its saved settings: put them back first.
            using var recoverLock = RunLock.Acquire();
            // Seen without the lock, it may have been a run still going, which has restored them since.
            if (live.JournalExists)
            {
                var left = live.RestoreFromJournal();
                if (left.Count > 0) throw new OracleUnavailableException($"could not restore settings left by an interrupted run: {string.Join("; ", left)}");
                Console.Error.WriteLine("mthpsim bench: restored THP settings left by an interrupted run");
            }
        }
        OracleRunner.CheckLiveKernel(live);
        foreach (var file in patterns.Where(p => p.Live != null).SelectMany(p => p.Live!.Settings.Keys).Distinct().Order(StringComparer.Ordinal))
            if (!File.Exists(Path.Combine(LiveSettings.Root, file)))
                throw new OracleUnavailableException($"{LiveSettings.Root}/{file} does not exist: this kernel lacks an mTHP size the suite needs");
        string binary = DriverBuilder.Ensure(typeof(LiveBench).Assembly, "mthp_bench");
        return new LiveBench(live, binary, File.ReadAllText("/proc/sys/kernel/osrelease").Trim());
    }

    /// <summary>
    /// The median of <paramref name="runs"/> runs' nanoseconds per unit, each run announced to
    /// <paramref name="log"/> as WHAT: run I of N, and the faults of all the runs that fell back.
    /// </summary>
    public (double NsPerUnit, long FaultFallbacks) MedianNsPerUnit(LiveBenchSpec spec, int runs, string what, Action<string>? log = null)
    {
        var ns = new List<double>();
        long fallbacks = 0;
        for (int i = 0; i < runs; i++)
        {
            log?.Invoke($"{what}: run {i + 1} of {runs}");
            var m = Measure(spec);
            ns.Add(m.NsPerUnit);
            fallbacks += m.FaultFallbacks;
        }
        return (BenchRunner.Median(ns), fallbacks);
    }

    /// <summary>Every size's anon_fault_fallback: faults that could not get the folio size they chose.</summary>
    static long FaultFallbacks() =>
        Directory.EnumerateDirectories(LiveSettings.Root, "hugepages-*")
            .Select(d => Path.Combine(d, "stats", "anon_fault_fallback"))
            .Where(File.Exists)
            .Sum(f => long.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture));

    /// <summary>
    /// One run of a pattern on the live kernel: units done, nanoseconds per unit, and the faults that
    /// fell back to a smaller folio than they chose (counted machine-wide while it ran: the run lock
    /// keeps other live runs out, not other programs).
    /// </summary>
    public LiveMeasurement Measure(LiveBenchSpec spec)
    {
        using var runLock = RunLock.Acquire();
        using var guard = new SettingsGuard(_live);
        Process? child = null;
        guard.OnBeforeRestore(() => { if (child is { HasExited: false }) child.Kill(); });
        var values = OracleRunner.SimulatorDefaults(_live);
        foreach (var (k, v) in spec.Settings) values[k] = v;
        // The model's memory is all backed: no host faults on memory the balloon reported free.
        if (_live.SettingFiles().Contains(LiveSettings.PageReportingOrder)) values[LiveSettings.PageReportingOrder] = LiveSettings.NoPageReporting;
        var failed = _live.Apply(values);
        if (failed.Count > 0) throw new OracleUnavailableException($"could not set THP settings: {string.Join("; ", failed)}");
        long fallbacksBefore = FaultFallbacks();
        var psi = new ProcessStartInfo(_binary, spec.Args) { RedirectStandardOutput = true, RedirectStandardError = true };
        child = Process.Start(psi) ?? throw new OracleUnavailableException($"could not start {_binary}");
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (guard.Interrupted is { } signal)
        {
            Interrupted = signal;
            throw new OperationCanceledException($"interrupted by {signal}; THP settings restored");
        }
        if (child.ExitCode != 0)
            throw new InvalidOperationException($"mthp_bench {string.Join(' ', spec.Args)} failed: {stderr.Result.Trim()}");
        var parts = stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        long units = long.Parse(parts[0], CultureInfo.InvariantCulture);
        long ns = long.Parse(parts[1], CultureInfo.InvariantCulture);
        return new LiveMeasurement(units, (double)ns / units, FaultFallbacks() - fallbacksBefore);
    }
}

/// <summary>One live run: units done, nanoseconds per unit, faults that fell back to a smaller folio.</summary>
public readonly record struct LiveMeasurement(long Units, double NsPerUnit, long FaultFallbacks);
