using MthpSim.Core;
using MthpSim.Core.Khugepaged.Policies;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Oracle.Compare;

/// <summary>
/// Runs a scenario on the live kernel and in the simulator in lockstep, statement by statement, and
/// evaluates every expectation on both sides. The live kernel's THP settings are saved first, set to
/// the simulator's defaults, and restored on every way out.
/// </summary>
public static class OracleRunner
{
    /// <summary>
    /// The simulator's starting settings, written to the live kernel before a scenario. khugepaged's
    /// scan sleep is the one exception: it is kept long (10 minutes), so that khugepaged acts only in
    /// the scenario's khugepaged statements (<see cref="LiveSettings.Apply"/> writes it first).
    /// </summary>
    public static Dictionary<string, string> SimulatorDefaults(LiveSettings live)
    {
        var d = new Dictionary<string, string>
        {
            ["enabled"] = "always", ["defrag"] = "madvise", ["use_zero_page"] = "1", ["shrink_underused"] = "1",
            ["shmem_enabled"] = "never", ["khugepaged/defrag"] = "1", ["khugepaged/pages_to_scan"] = "4096",
            ["khugepaged/scan_sleep_millisecs"] = "600000", ["khugepaged/alloc_sleep_millisecs"] = "60000",
            ["khugepaged/max_ptes_none"] = "511", ["khugepaged/max_ptes_swap"] = "64", ["khugepaged/max_ptes_shared"] = "256",
        };
        foreach (var f in live.SettingFiles().Where(f => f.StartsWith("hugepages-", StringComparison.Ordinal)))
            d[f] = f.StartsWith("hugepages-2048kB/", StringComparison.Ordinal) ? "inherit" : "never";
        return d;
    }

    /// <summary>Checks that this process can drive the live kernel; throws with the reason when not.</summary>
    public static void CheckLiveKernel(LiveSettings live)
    {
        if (!Environment.IsPrivilegedProcess) throw new OracleUnavailableException("the live kernel needs root (for THP settings and /proc/kpageflags)");
        if (!Directory.Exists(LiveSettings.Root)) throw new OracleUnavailableException($"{LiveSettings.Root} does not exist: this kernel has no THP");
        string current = live.Read("enabled");
        if (live.Write("enabled", current) is string err) throw new OracleUnavailableException($"THP settings are not writable: {err}");
    }

    /// <summary>The live kernel is Linux 6.18: its khugepaged is the pmd-only design, so another design cannot be checked against it.</summary>
    static string? OtherCollapseDesign(IReadOnlyList<Statement> statements) =>
        statements.OfType<PolicyStmt>().FirstOrDefault(p => p.Value != PmdOnlyPolicy.Instance.Name) is { } other
            ? $"line {other.Span.Line}: the live kernel collapses as Linux 6.18 does ('{PmdOnlyPolicy.Instance.Name}'); '{other.Value}' exists only in the simulator"
            : null;

    /// <summary>The cost model's estimates, work counts and TLB entries exist only in the simulator: the live kernel does not count them per process.</summary>
    static string? SimulatorOnlyObservable(IReadOnlyList<Statement> statements)
    {
        foreach (var st in statements)
        {
            var o = st switch
            {
                ExpectStmt e => e.Lhs,
                PrintStmt { Target: PrintObservable po } => po.Observable,
                _ => null,
            };
            if (o is CostObs or WorkObs or TlbObs || st is PrintStmt { Target: PrintView { Kind: ViewKind.Cost or ViewKind.Tlb } })
                return $"line {st.Span.Line}: '{st.Text}' is a simulator's estimate (docs/cost-model.md): the live kernel counts neither its work nor TLB entries per process";
            if (o is ContPteObs)
                return $"line {st.Span.Line}: '{st.Text}' reads arm64's contiguous bit, which no interface of the live kernel shows (and this x86_64 machine has no such bit)";
        }
        return null;
    }

    static string? Incompatible(Kernel sim)
    {
        if (sim.Geo.PageSize != Environment.SystemPageSize)
            return $"the scenario needs {sim.Geo.PageSize >> 10}K pages; the live kernel has {Environment.SystemPageSize >> 10}K pages";
        bool x86 = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64;
        if ((sim.Geo.Arch == MthpSim.Core.Arch.CpuArch.X86_64) != x86) return $"the scenario needs {sim.Geo.Arch}; the live machine is not";
        if (sim.Config.MemoryBytes < (1L << 30))
            return $"the scenario sets memory={sim.Config.MemoryBytes >> 20}M; a live machine cannot shrink to it (allocation failures would differ)";
        return null;
    }

    /// <summary>
    /// Runs the scenario on both sides. Machine-wide counters (vmstat, meminfo, per-size stats) also
    /// count other processes, so a scenario that disagrees only on those is run once more; the report
    /// says so. A disagreement on anything per-process (smaps, thpmaps, folio, intact, rc) is final.
    /// <paramref name="atEnd"/>, if given, is called after the last statement while the drivers still run
    /// (to look at the live processes, e.g. with the kernel's own tools), unless the run was cut short.
    /// </summary>
    public static OracleResult Run(string path, string text, Action<LiveSession>? atEnd = null) =>
        Run(path, text, atEnd == null ? null : (live, _) => atEnd(live));

    /// <summary>As above; <paramref name="atEnd"/> also gets the simulator's session, to set its views beside the live ones.</summary>
    public static OracleResult Run(string path, string text, Action<LiveSession, ScenarioSession>? atEnd)
    {
        var first = RunOnce(path, text, atEnd);
        if (first.ExitCode != 1 || first.Aborted != null || first.Expectations.Where(e => !e.Agrees).Any(e => !IsGlobal(e.Observable)))
            return first;
        var second = RunOnce(path, text, atEnd);
        second.Notes.Add("the first run disagreed only on machine-wide counters (noise from other processes); this is the second run");
        return second;
    }

    static bool IsGlobal(string observable) =>
        observable.StartsWith("vmstat ", StringComparison.Ordinal) || observable.StartsWith("meminfo ", StringComparison.Ordinal)
        || (observable.StartsWith("sysfs ", StringComparison.Ordinal) && (observable.Contains("/stats/") || observable.Contains("khugepaged/")));

    static OracleResult RunOnce(string path, string text, Action<LiveSession, ScenarioSession>? atEnd)
    {
        var result = new OracleResult { File = path };
        var simResult = new RunResult { File = path };
        var prepared = ScenarioRunner.Prepare(path, text, simResult);
        if (prepared == null)
        {
            result.Invalid.AddRange(simResult.Invalid.Select(d => d.ToString()));
            return result;
        }
        var (sim, statements) = prepared.Value;
        if ((Incompatible(sim.Kernel) ?? OtherCollapseDesign(statements) ?? SimulatorOnlyObservable(statements)) is string why) { result.Unavailable = why; return result; }

        var live = new LiveSettings();
        SettingsGuard? held = null;
        try
        {
            // The lock first: while another run holds it, the journal is that run's, not a leftover,
            // and any write (even the writability check) could wake khugepaged in the middle of its scenario.
            using var runLock = RunLock.Acquire();
            // tmpfs mounts a killed run left behind go first: their files were the scenario's.
            string mountJournal = LiveMounts.JournalFor(live.JournalPath);
            UndoLeftover(mountJournal, LiveMounts.CleanupFromJournal, "the tmpfs mounts");
            string swapJournal = LiveSwap.JournalFor(live.JournalPath);
            UndoLeftover(swapJournal, LiveSwap.CleanupFromJournal, "the swap");
            string cgroupJournal = LiveCgroups.JournalFor(live.JournalPath);
            UndoLeftover(cgroupJournal, LiveCgroups.CleanupFromJournal, "the memory cgroups");
            foreach (var sysctl in LiveSysctl.All)
                UndoLeftover(sysctl.JournalFor(live.JournalPath), j => LiveSysctl.CleanupFromJournal(sysctl, j), $"the change to {sysctl.Name}");
            UndoLeftover(LiveKhugepagedAffinity.JournalFor(live.JournalPath), LiveKhugepagedAffinity.CleanupFromJournal, "the pinning of khugepaged to one CPU");
            if (live.JournalExists)
            {
                var left = live.RestoreFromJournal();
                Console.Error.WriteLine(left.Count == 0
                    ? "mthpsim oracle: restored THP settings left by an interrupted run"
                    : $"mthpsim oracle: could not restore settings left by an interrupted run: {string.Join("; ", left)}");
            }
            CheckLiveKernel(live);
            // smaps shows ProtectionKey only where the CPU has protection keys: the model follows the live CPU
            sim.Kernel.ProtectionKeys = sim.Kernel.Geo.Arch == MthpSim.Core.Arch.CpuArch.X86_64 && LiveCpu.ProtectionKeys();
            string driver = DriverBuilder.Ensure();
            ProcessThp.DisableForThisProcess();
            result.KernelRelease = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
            using var guard = held = new SettingsGuard(live);
            var failed = live.Apply(SimulatorDefaults(live));
            if (failed.Count > 0) throw new OracleUnavailableException($"could not set the simulator's defaults: {string.Join("; ", failed)}");
            var processes = statements.OfType<ProcessStmt>().Select(p => p.Name).ToList();
            bool zeroPageObserved = statements.OfType<ExpectStmt>().Any(e => e.Lhs is VmstatObs { Name: "thp_zero_page_alloc" or "thp_zero_page_alloc_failed" });
            // The scenario's swap, on only while it runs; disposed after the drivers (using: reverse order).
            using var swap = sim.Kernel.SwapInfo != null ? LiveSwap.Start(sim.Kernel.Config.SwapDevice, sim.Kernel.Config.SwapBytes, swapJournal) : null;
            using var session = new LiveSession(driver, mountJournal, cgroupJournal);
            guard.OnBeforeRestore(session.Dispose);   // before any driver starts, so a signal stops them all
            if (swap != null) guard.OnBeforeRestore(swap.Dispose);
            // One CPU for scenarios with cgroups (one charge stock, as in the model) or swap: MADV_PAGEOUT
            // drains only its own CPU's LRU batches, and a page still in another CPU's batch is not
            // isolated (live, 2 to 17 of 64 pages stayed in memory from run to run).
            session.Start(sim.Kernel, processes, zeroPageObserved, needsReclaim: statements.OfType<ReclaimStmt>().Any(),
                oneCpu: statements.OfType<CgroupStmt>().Any() || sim.Kernel.SwapInfo != null);
            if (sim.Kernel.SwapInfo != null && IntactBeforeReclaim(statements) is string note) result.Notes.Add(note);
            RunLockstep(sim, statements, session, simResult, result, guard);
            if (!Interrupted(guard, result))
            {
                session.NoteStrayKhugepaged();
                result.Notes.AddRange(session.Notes);
                CollectCounters(sim.Kernel, session, result);
                if (result.Aborted == null) atEnd?.Invoke(session, sim);
            }
            // A signal after the statements (while counters were read) ends the run all the same.
            Interrupted(guard, result);
        }
        catch (OracleUnavailableException e)
        {
            result.Unavailable = e.Message;
        }
        // A signal while the run was tearing down (swapoff, the drivers' exit) was handled by its guard
        // too: the run still counts as interrupted, or a fuzz run would go on to the next scenario.
        if (held != null && result.InterruptedStatus == null) Interrupted(held, result);
        return result;
    }

    /// <summary>Undoes what a killed run's journal lists (its cleanup returns what failed), and says so.</summary>
    static void UndoLeftover(string journal, Func<string, List<string>> cleanup, string what)
    {
        if (!File.Exists(journal)) return;
        var left = cleanup(journal);
        Console.Error.WriteLine(left.Count == 0
            ? $"mthpsim oracle: undid {what} an interrupted run left behind"
            : $"mthpsim oracle: could not undo {what} an interrupted run left behind: {string.Join("; ", left)}");
    }

    /// <summary>Whether a signal stopped the run; if so the result says so, with the exit status it asks for.</summary>
    static bool Interrupted(SettingsGuard guard, OracleResult result)
    {
        if (guard.Interrupted is not { } signal) return false;
        result.Aborted = $"interrupted by {signal}; THP settings restored";
        result.InterruptedStatus = SettingsGuard.ExitStatus(signal);
        return true;
    }

    static void RunLockstep(ScenarioSession sim, IReadOnlyList<Statement> statements, LiveSession live, RunResult simResult, OracleResult result, SettingsGuard guard)
    {
        var quiet = new RunOptions();
        foreach (var stmt in statements)
        {
            if (guard.Interrupted != null) return;
            try
            {
                ScenarioRunner.Execute(sim, stmt, simResult, quiet);
                live.Execute(stmt, sim);
                if (stmt is ExpectStmt e)
                {
                    var simExp = simResult.Expectations[^1];
                    var liveExp = ScenarioRunner.Compare(e, live.Evaluate(e.Lhs));
                    result.Expectations.Add(new OracleExpectation(e.Span.Line, e.Text, e.Lhs.ToString()!, liveExp, simExp));
                }
            }
            catch (ScenarioRuntimeException ex)
            {
                result.Aborted = ex.ToString();
                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException || guard.Interrupted != null)
            {
                // A driver that died (or was stopped by a signal) makes the live side's files vanish too.
                result.Aborted = $"{stmt.Span.File}:{stmt.Span.Line}: live side failed: {ex.Message}";
                return;
            }
        }
    }

    /// <summary>
    /// The live side reads a region's resident pages for <c>intact</c> (loads by the program, which make
    /// their PTEs young); a reclaim after that sees them used, where the simulator's <c>intact</c> has no
    /// effect. Said once, naming the first such pair of lines.
    /// </summary>
    static string? IntactBeforeReclaim(IReadOnlyList<Statement> statements)
    {
        int? intactLine = null;
        foreach (var st in statements)
        {
            if (st is ExpectStmt { Lhs: IntactObs }) intactLine ??= st.Span.Line;
            else if (intactLine is int l && st is ReclaimStmt or CgroupReclaimStmt)
                return $"line {l}: 'intact' reads the region's pages live, making them young; the reclaim at line {st.Span.Line} sees them used (the simulator's 'intact' changes nothing): put 'intact' after the last reclaim";
        }
        return null;
    }

    static void CollectCounters(Kernel sim, LiveSession live, OracleResult result)
    {
        var simCounters = new RunResult { File = "" };
        ScenarioRunner.CollectCounters(sim, simCounters);
        var liveDeltas = live.CounterDeltas();
        foreach (var name in simCounters.Counters.Keys.Union(liveDeltas.Keys))
        {
            long s = simCounters.Counters.GetValueOrDefault(name), l = liveDeltas.GetValueOrDefault(name);
            // THP counters only: the page-count gauges and pgfault move with everything else on a live machine.
            bool thp = name.StartsWith("sysfs/", StringComparison.Ordinal) || name.StartsWith("vmstat/thp_", StringComparison.Ordinal)
                       || name == "vmstat/nr_anon_transparent_hugepages";
            if (!thp || (s == 0 && l == 0) || !simCounters.Counters.ContainsKey(name)) continue;
            result.Counters[name] = (l, s);
        }
    }

    /// <summary>Compares the simulator with a recorded live run (<c>--replay</c>), for machines without a usable live kernel.</summary>
    public static OracleResult Replay(string path, string text, OracleReport.Record record)
    {
        var result = new OracleResult { File = path, KernelRelease = record.Kernel + " (recorded)" };
        var sim = ScenarioRunner.RunText(path, text, new RunOptions());
        result.Invalid.AddRange(sim.Invalid.Select(d => d.ToString()));
        result.Aborted = sim.Aborted;
        var byLine = record.Expectations.ToDictionary(e => e.Line);
        foreach (var e in sim.Expectations)
        {
            if (!byLine.TryGetValue(e.Span.Line, out var rec))
            {
                result.Notes.Add($"line {e.Span.Line}: not in the record");
                result.Expectations.Add(new OracleExpectation(e.Span.Line, e.Statement, e.Observable, e with { Observed = "(not recorded)", Passed = false }, e));
                continue;
            }
            result.Expectations.Add(new OracleExpectation(e.Span.Line, e.Statement, e.Observable, e with { Observed = rec.Observed, Passed = rec.Passed }, e));
        }
        foreach (var (name, live) in record.Counters)
            result.Counters[name] = (live, sim.Counters.GetValueOrDefault(name));
        return result;
    }
}
