using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MthpSim.Oracle.Compare;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;

namespace MthpSim.Oracle.Fragmentation;

/// <summary>
/// The live kernel's side of the experiment: runs <c>mthp_frag</c> under the machine-wide run lock,
/// with the THP settings and vm.compaction_proactiveness journalled before any change and restored on
/// every way out (normal end, exception, SIGINT, SIGTERM, SIGHUP: <see cref="SettingsGuard"/>; the
/// driver is killed first, which releases its pins). The driver stops before each phase; this side
/// sets that phase's settings (and writes compact_memory) and lets it go on.
/// </summary>
public static class LiveFragmentation
{
    const string CompactMemory = "/proc/sys/vm/compact_memory";

    public sealed class Result
    {
        public required MachineGeometry Geometry { get; init; }
        public required long Fill { get; init; }
        public required string KernelRelease { get; init; }
        public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, PhaseCounts> Phases { get; } = new(StringComparer.Ordinal);
        public long Pinned => long.Parse(Values.GetValueOrDefault("pinned", "0"), CultureInfo.InvariantCulture);
        public long FillBlocks => long.Parse(Values.GetValueOrDefault("fill.blocks", "0"), CultureInfo.InvariantCulture);
    }

    /// <summary>Throws <see cref="OracleUnavailableException"/> when this machine cannot run the experiment.</summary>
    public static void CheckMachine()
    {
        if (!OperatingSystem.IsLinux()) throw new OracleUnavailableException("the live kernel must be Linux");
        if (RuntimeInformation.OSArchitecture != Architecture.X64 || Environment.SystemPageSize != FragmentationExperiment.PageSize)
            throw new OracleUnavailableException("the experiment models x86_64 with 4K pages; this machine is not one");
        if (!Environment.IsPrivilegedProcess) throw new OracleUnavailableException("the live kernel needs root (THP settings, compaction, page frame numbers in pagemap)");
        if (!Directory.Exists(LiveSettings.Root)) throw new OracleUnavailableException($"{LiveSettings.Root} does not exist: this kernel has no THP");
        foreach (var f in new[] { "hugepages-2048kB/enabled", "hugepages-64kB/enabled", "hugepages-64kB/stats/anon_fault_alloc" })
            if (!File.Exists(Path.Combine(LiveSettings.Root, f))) throw new OracleUnavailableException($"{LiveSettings.Root}/{f} does not exist: this kernel lacks a size the experiment needs");
        foreach (var f in new[] { LiveSysctl.CompactionProactiveness.Path, CompactMemory })
            if (!File.Exists(f)) throw new OracleUnavailableException($"{f} does not exist: this kernel has no compaction");
        const string disabled = "/proc/sys/kernel/io_uring_disabled";
        if (File.Exists(disabled) && File.ReadAllText(disabled).Trim() != "0")
            throw new OracleUnavailableException($"io_uring is disabled ({disabled} = {File.ReadAllText(disabled).Trim()}); the experiment pins pages as io_uring fixed buffers");
    }

    public static Result Run(FragmentationExperiment exp, Action<string> progress, out PosixSignal? interrupted)
    {
        interrupted = null;
        CheckMachine();
        string driver = FragDriver.Ensure();
        var live = new LiveSettings();
        string proactJournal = LiveSysctl.CompactionProactiveness.JournalFor(live.JournalPath);
        // The lock first: while another run holds it, its journals are its own, not leftovers.
        progress("waiting for the oracle's run lock");
        using var runLock = RunLock.Acquire();
        if (File.Exists(proactJournal))
        {
            var left = LiveSysctl.CleanupFromJournal(LiveSysctl.CompactionProactiveness, proactJournal);
            if (left.Count > 0) throw new OracleUnavailableException(string.Join("; ", left));
            progress("restored vm.compaction_proactiveness left by an interrupted run");
        }
        if (live.JournalExists)
        {
            var left = live.RestoreFromJournal();
            if (left.Count > 0) throw new OracleUnavailableException($"could not restore settings left by an interrupted run: {string.Join("; ", left)}");
            progress("restored THP settings left by an interrupted run");
        }
        OracleRunner.CheckLiveKernel(live);
        // Read under the lock: another live run's memory is gone by now.
        var geo = MachineGeometry.ReadLive();
        long fill = geo.Fill(exp.FillHeadroom);
        if (fill < exp.Measure)
            throw new OracleUnavailableException($"MemAvailable is {geo.MemAvailable >> 20}M: with {exp.FillHeadroom >> 20}M of headroom the fill ({fill >> 20}M) would be smaller than one measurement");
        var result = new Result { Geometry = geo, Fill = fill, KernelRelease = File.ReadAllText("/proc/sys/kernel/osrelease").Trim() };

        using var guard = new SettingsGuard(live);
        Process? child = null;
        guard.OnBeforeRestore(() => { if (child is { HasExited: false }) { child.Kill(); child.WaitForExit(); } });
        using var proactiveness = LiveSysctl.Set(LiveSysctl.CompactionProactiveness, 0, proactJournal);
        guard.OnBeforeRestore(proactiveness.Dispose);

        var baseline = new Dictionary<string, string>
        {
            ["enabled"] = "never", ["defrag"] = "madvise",
            // khugepaged must not collapse (nor compact for) anything while a phase runs.
            ["khugepaged/scan_sleep_millisecs"] = "600000", ["khugepaged/alloc_sleep_millisecs"] = "60000",
        };
        foreach (var f in live.SettingFiles().Where(f => f.StartsWith("hugepages-", StringComparison.Ordinal) && f.EndsWith("/enabled", StringComparison.Ordinal)))
            baseline[f] = "never";
        Apply(live, baseline);

        var args = new[] { fill, exp.Measure }.Select(v => v.ToString(CultureInfo.InvariantCulture))
            .Concat([exp.PinShare.ToString("R", CultureInfo.InvariantCulture), exp.Seed.ToString(CultureInfo.InvariantCulture), exp.Hold]).ToArray();
        progress($"live: fill {fill >> 20}M (MemAvailable {geo.MemAvailable >> 20}M minus {exp.FillHeadroom >> 20}M), pin share {exp.PinShare.ToString(CultureInfo.InvariantCulture)} ({exp.Hold}), measure {exp.Measure >> 20}M");
        var psi = new ProcessStartInfo(driver, args) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        child = Process.Start(psi) ?? throw new OracleUnavailableException($"could not start {driver}");
        var stderr = child.StandardError.ReadToEndAsync();
        var sw = Stopwatch.StartNew();
        try
        {
            string? line;
            while ((line = child.StandardOutput.ReadLine()) != null)
            {
                if (line.StartsWith("ready ", StringComparison.Ordinal))
                {
                    string phase = line["ready ".Length..];
                    progress($"live: {phase} ({sw.Elapsed.TotalSeconds:F1} s)");
                    PreparePhase(live, baseline, phase);
                    child.StandardInput.WriteLine("go");
                    child.StandardInput.Flush();
                }
                else if (line.IndexOf('=') is int eq and > 0) result.Values[line[..eq]] = line[(eq + 1)..];
            }
            child.WaitForExit();
        }
        // A signal's restore killed the driver and put the settings back under this loop's feet.
        catch (Exception) when (guard.Interrupted != null) { }
        if (guard.Interrupted is { } signal) { interrupted = signal; return result; }
        if (child.ExitCode == 4) throw new OracleUnavailableException($"io_uring could not pin the pages: {stderr.Result.Trim()}");
        if (child.ExitCode != 0) throw new InvalidOperationException($"mthp_frag failed (exit {child.ExitCode}): {stderr.Result.Trim()}");
        foreach (var p in FragmentationExperiment.Phases) result.Phases[p.Name] = Counts(result.Values, p);
        return result;
    }

    /// <summary>The settings of a phase, over the baseline; compact_memory before the phase that asks for it.</summary>
    static void PreparePhase(LiveSettings live, Dictionary<string, string> baseline, string phase)
    {
        var values = new Dictionary<string, string>(baseline);
        if (FragmentationExperiment.Phases.FirstOrDefault(p => p.Name == phase) is { } ph)
        {
            values["defrag"] = ph.Defrag;
            values[ph.SizeKnob] = "always";
            Apply(live, values);
            if (ph.CompactFirst)
            {
                int rc = SysfsFile.WriteValue(CompactMemory, "1");
                if (rc != 0) throw new InvalidOperationException($"could not write {CompactMemory}: errno {-rc}");
            }
        }
        else Apply(live, values);
    }

    static void Apply(LiveSettings live, Dictionary<string, string> values)
    {
        var failed = live.Apply(values);
        if (failed.Count > 0) throw new OracleUnavailableException($"could not set THP settings: {string.Join("; ", failed)}");
    }

    static PhaseCounts Counts(Dictionary<string, string> v, FragmentationPhase p)
    {
        long Get(string key) => v.TryGetValue($"{p.Name}.{key}", out var s) ? long.Parse(s, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"mthp_frag did not report {p.Name}.{key}");
        bool pmd = p.FolioSize == FragmentationExperiment.PmdSize;
        long folios = pmd ? Get("anon_huge_kb") * 1024 / FragmentationExperiment.PmdSize : Get("anon_fault_alloc_64k");
        return new PhaseCounts(Get("faults"), folios, Get("compact_stall"), Get("compact_success"), Get("compact_fail"), Get("pgmigrate_success"),
            pmd ? Get("thp_fault_alloc") : Get("mapped_64k"), Get("free_blocks"));
    }
}
