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

    /// <summary>The median of <paramref name="runs"/> runs' nanoseconds per unit, each run announced to <paramref name="log"/> as WHAT: run I of N.</summary>
    public double MedianNsPerUnit(LiveBenchSpec spec, int runs, string what, Action<string>? log = null)
    {
        var ns = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            log?.Invoke($"{what}: run {i + 1} of {runs}");
            ns.Add(Measure(spec).NsPerUnit);
        }
        return BenchRunner.Median(ns);
    }

    /// <summary>One run of a pattern on the live kernel: units done and nanoseconds per unit.</summary>
    public (long Units, double NsPerUnit) Measure(LiveBenchSpec spec)
    {
        using var runLock = RunLock.Acquire();
        using var guard = new SettingsGuard(_live);
        Process? child = null;
        guard.OnBeforeRestore(() => { if (child is { HasExited: false }) child.Kill(); });
        var values = OracleRunner.SimulatorDefaults(_live);
        foreach (var (k, v) in spec.Settings) values[k] = v;
        var failed = _live.Apply(values);
        if (failed.Count > 0) throw new OracleUnavailableException($"could not set THP settings: {string.Join("; ", failed)}");
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
        return (units, (double)ns / units);
    }
}
