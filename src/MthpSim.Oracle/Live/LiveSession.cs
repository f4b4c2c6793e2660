using System.Globalization;
using MthpSim.Core;
using MthpSim.Core.Proc;
using MthpSim.Core.Sysfs;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Oracle.Live;

/// <summary>
/// The live side of an oracle run: one driver process per scenario process, the regions they
/// mapped, the content each program stored (for <c>intact</c>), and the counter baselines taken
/// before the first statement. Global counters are reported in the simulator's frame: the
/// simulator's starting value plus the live kernel's change since the baseline.
/// </summary>
public sealed class LiveSession : IDisposable
{
    readonly Dictionary<string, LiveDriver> _procs = new();
    readonly Dictionary<(string, string), RegionBinding> _regions = new();
    readonly Dictionary<string, Dictionary<ulong, (ulong Token, bool MaybeZero)>> _expected = new();
    /// <summary>Per process, the fault counts that are the driver's own (its start-up, COW breaks after fork), not the scenario's.</summary>
    readonly Dictionary<string, (long Minflt, long Majflt)> _ownFaults = new();
    readonly string _binary;
    readonly string _mountJournal;
    LiveDriver? _control;
    Dictionary<string, long> _vmstatStart = new(), _meminfoStart = new(), _thpStart = new();
    Dictionary<string, long> _simVmstatStart = new(), _simMeminfoStart = new();
    ulong _nextToken = 1;

    /// <summary>A driver that plays no scenario process: it keeps khugepaged's list non-empty and writes sysfs files.</summary>
    public LiveDriver Control => _control ?? throw new InvalidOperationException("the live session has not started");
    public long Rc { get; private set; }
    public long PageSize => Control.PageSize;
    public List<string> Notes { get; } = new();

    /// <summary>
    /// Writes a memory cgroup's control file through the control driver (rc 0 or a negative errno),
    /// so that the reclaim the write does runs on the drivers' CPU when they are pinned, as the
    /// model's one CPU: its per-CPU swap cluster picks the slots pages go to.
    /// </summary>
    int WriteControlFile(string path, string value) => (int)Control.SendRc($"sysfs_write {path} {value}");

    /// <param name="mountJournal">Where tmpfs mounts are recorded before they are made (<see cref="LiveMounts"/>).</param>
    public LiveSession(string binary, string? mountJournal = null, string? cgroupJournal = null, string? affinityJournal = null)
    {
        _binary = binary;
        _mountJournal = mountJournal ?? LiveMounts.JournalFor(new Settings.LiveSettings().JournalPath);
        _cgroupJournal = cgroupJournal ?? LiveCgroups.JournalFor(new Settings.LiveSettings().JournalPath);
        _affinityJournal = affinityJournal ?? LiveKhugepagedAffinity.JournalFor(new Settings.LiveSettings().JournalPath);
    }

    readonly string _cgroupJournal, _affinityJournal;
    /// <summary>khugepaged on the drivers' CPU (a one-CPU session), or null.</summary>
    LiveKhugepagedAffinity? _khugepagedCpu;
    LiveCgroups? _cgroups;
    /// <summary>Scenario processes whose driver exited or was killed (the OOM killer): their statements return -ESRCH.</summary>
    readonly HashSet<string> _gone = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts the control driver and one driver per scenario process before the baseline is taken,
    /// so that their own start-up (page tables, stacks, mTHP faults under the scenario's settings)
    /// never shows in the scenario's counters.
    /// </summary>
    /// <param name="oneCpu">Pin every driver and khugepaged to one CPU (one charge stock, one set of LRU batches and one per-CPU swap cluster, as in the model).</param>
    public void Start(Kernel sim, IEnumerable<string> processes, bool freeHugeZeroPage, bool needsReclaim, bool oneCpu = false)
    {
        int cpu = Math.Min(Environment.ProcessorCount, 64) - 1;
        lock (_procs) _control = new LiveDriver(_binary);
        if (oneCpu)
        {
            _control.PinToCpu(cpu);
            _khugepagedCpu = new LiveKhugepagedAffinity(_affinityJournal, cpu);
            _khugepagedCpu.Follow();
        }
        KeepKhugepagedAsleep();
        SettleKhugepaged(KhugepagedThread.Wake(), "before the scenario");
        if (needsReclaim)
        {
            _memcg = LiveMemcg.TryCreate(out string? why)
                ?? throw new OracleUnavailableException($"'reclaim' needs a private memory cgroup for the drivers: {why}");
            // The control driver allocates what pwrite and fallocate put into files: reclaim must see it too.
            _memcg.Add(Control.Pid);
        }
        foreach (var name in processes)
        {
            var d = new LiveDriver(_binary);
            if (oneCpu) d.PinToCpu(cpu);
            lock (_procs) { _procs[name] = d; _expected[name] = new(); }
            _ownFaults[name] = LiveProcfs.FaultCounts(d.Pid);
            _memcg?.Add(d.Pid);
        }
        if (freeHugeZeroPage) LiveProcfs.FreeHugeZeroPage();
        _simVmstatStart = sim.VmstatNames().ToDictionary(n => n, n => sim.Vmstat(n)!.Value);
        _simMeminfoStart = sim.MeminfoNames().ToDictionary(n => n, n => sim.Meminfo(n)!.Value);
        LiveProcfs.RefreshStats();
        _vmstatStart = LiveProcfs.Vmstat();
        _meminfoStart = LiveProcfs.Meminfo();
        _thpStart = LiveProcfs.ThpCounters();
        _khugepagedAtBaseline = KhugepagedThread.Read();
    }

    KhugepagedThread.Sample _khugepagedAtBaseline;
    /// <summary>Whether a statement may have woken khugepaged (its own statements, a sysfs write).</summary>
    bool _scenarioWokeKhugepaged;

    /// <summary>
    /// A note when khugepaged woke during the scenario though no statement can have woken it (a
    /// stray pass: its collapses are in the live results, and the simulator has none).
    /// </summary>
    public void NoteStrayKhugepaged()
    {
        if (_scenarioWokeKhugepaged) return;
        var now = KhugepagedThread.Read();
        var b = _khugepagedAtBaseline;
        if (now.SleptSince(b) || now.FullScans != b.FullScans || now.PagesCollapsed != b.PagesCollapsed)
            Notes.Add($"khugepaged woke during the scenario though no statement woke it (full_scans +{now.FullScans - b.FullScans}, "
                      + $"pages_collapsed +{now.PagesCollapsed - b.PagesCollapsed}): live results may include a stray pass");
    }

    /// <summary>
    /// khugepaged wakes at once when the first mm registers with an empty list, and may then collapse
    /// the scenario's memory. Registering this driver first (one THP fault, then unmapped) keeps the
    /// list non-empty, so khugepaged only wakes when its (long) scan sleep expires.
    /// </summary>
    void KeepKhugepagedAsleep()
    {
        long addr = Control.SendRc("mmap 0 4194304 3");
        if (addr < 0) return;
        ulong pmd = ((ulong)addr + 0x1fffff) & ~0x1fffffUL;
        Control.SendRc($"madvise {pmd} 2097152 14");
        Control.Send($"touch {pmd} 4096 1 0");
        Control.SendRc($"munmap {addr} 4194304");
    }

    /// <summary>
    /// Waits out the pass that a wake-up (<paramref name="woken"/> is the reading before it) started:
    /// until khugepaged sleeps its 10-minute scan sleep again. Before the scenario, that pass may
    /// have been woken by the settings just written or by the control driver's registration, and it
    /// would otherwise run at nice 19 whenever a CPU is free: in the middle of the scenario.
    /// </summary>
    void SettleKhugepaged(KhugepagedThread.Sample woken, string when, TimeSpan? quiet = null, TimeSpan? poll = null)
    {
        if (!KhugepagedThread.WaitAsleep(woken, quiet ?? TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(30), poll))
            Notes.Add($"khugepaged did not go back to sleep within 30 s {when}: a pass may overlap the scenario");
    }

    LiveDriver Proc(string name)
    {
        lock (_procs)
            return _procs.TryGetValue(name, out var d) ? d : throw new InvalidOperationException($"the live driver of '{name}' has stopped");
    }

    RegionBinding Region(string proc, string region, SourceSpan at)
    {
        var b = _regions[(proc, region)];
        if (!b.Mapped) throw new ScenarioRuntimeException(at, $"live: region '{region}' has no address: its mmap returned {Errno.Name(b.MmapRc)}");
        return b;
    }

    static int ProtBits(Scenario.Syntax.Prot p) => p switch { Scenario.Syntax.Prot.None => 0, Scenario.Syntax.Prot.Read => 1, _ => 3 };

    static int AdviceNumber(Advice a) => a switch
    {
        Advice.Hugepage => 14, Advice.Nohugepage => 15, Advice.Dontneed => 4, Advice.Free => 8,
        Advice.Collapse => 25, Advice.PopulateRead => 22, Advice.PopulateWrite => 23, Advice.Pageout => 21,
        Advice.Remove => 9, _ => 20,
    };

    /// <summary>Carries out one statement on the live kernel; <paramref name="sim"/> (already stepped) supplies the simulator's placement for <c>any</c>.</summary>
    public void Execute(Statement stmt, ScenarioSession sim)
    {
        if (stmt is not (ExpectStmt or PrintStmt or MachineStmt)) ForgetReadings();
        string? process = ScenarioRunner.ProcessOf(stmt);
        if (process != null && _gone.Contains(process))
        {
            if (stmt is ForkStmt f) _gone.Add(f.Child);
            Rc = -Errno.ESRCH;
            return;
        }
        try
        {
            ExecuteStatement(stmt, sim);
        }
        catch (LiveDriverGoneException) when (process != null && _cgroups != null && _procs.TryGetValue(process, out var d) && LiveProcfs.WaitGone(d.Pid))
        {
            Rc = -Errno.ESRCH;   // killed while it ran (the OOM killer chose it)
        }
        // The OOM killer may have chosen another process of the group.
        List<(string Name, LiveDriver Driver)> drivers;
        lock (_procs) drivers = _procs.Select(kv => (kv.Key, kv.Value)).ToList();
        foreach (var (name, d) in drivers)
        {
            if (LiveProcfs.Alive(d.Pid)) continue;
            _gone.Add(name);
            lock (_procs) _procs.Remove(name);
            d.Dispose();
        }
    }

    void ExecuteStatement(Statement stmt, ScenarioSession sim)
    {
        ExecuteOne(stmt, sim);
        // Pages a userfaultfd handler thread (or the statement) filled hold what the driver put there.
        if (ScenarioRunner.ProcessOf(stmt) is string p && _uffdProcs.Contains(p) && !_gone.Contains(p) && _procs.ContainsKey(p)) ApplyUffdLog(p);
    }

    void ExecuteOne(Statement stmt, ScenarioSession sim)
    {
        switch (stmt)
        {
            case MachineStmt or ExpectStmt or PrintStmt:
                break;
            case PolicyStmt:
                break;   // only pmd-only gets here (OracleRunner refuses the others): the live kernel's own design
            case ReclaimStmt:
                _memcg!.Reclaim(WriteControlFile);
                Rc = 0;
                break;
            case SleepStmt sl when sl.Milliseconds == 0:
                break;
            case SleepStmt sl:
                throw new ScenarioRuntimeException(sl.Span, "the live side cannot reproduce 'sleep' (khugepaged and kswapd would run on the real clock); use 'khugepaged full-scans N'");
            case KhugepagedScanStmt ks:
                throw new ScenarioRuntimeException(ks.Span, "the live side cannot count khugepaged rounds; use 'khugepaged full-scans N'");
            case KhugepagedFullScansStmt kf:
                _scenarioWokeKhugepaged = true;
                Rc = WaitForFullScans(kf.Count);
                break;
            case SysfsWriteStmt w when w.Path is "khugepaged/scan_sleep_millisecs" or "khugepaged/alloc_sleep_millisecs":
                // Not applied live: khugepaged must stay asleep between statements (a write even wakes
                // it at once); it runs only inside `khugepaged full-scans`. The simulator validated the value.
                Rc = sim.Rc;
                break;
            case SysfsWriteStmt w:
            {
                _scenarioWokeKhugepaged = true;
                var before = KhugepagedThread.Read();
                Rc = Settings.SysfsFile.WriteValue($"{Settings.LiveSettings.Root}/{w.Path}", w.Value);
                // Enabling the PMD size (anon or shmem) while khugepaged is stopped starts a new thread,
                // which scans before it first sleeps: wait that pass out, so that it ends here, as the
                // simulator's does, not during a later statement.
                int pid = KhugepagedThread.FindPid();
                if (pid != 0 && pid != before.Pid)
                {
                    _khugepagedCpu?.Follow();   // the rest of its first pass on the drivers' CPU too
                    SettleKhugepaged(before, $"after line {w.Span.Line}");
                    long collapsed = KhugepagedThread.Read(pid).PagesCollapsed - before.PagesCollapsed;
                    if (collapsed != 0)
                        Notes.Add($"line {w.Span.Line}: the write started khugepaged, whose first pass collapsed {collapsed} ranges (pages_collapsed; the simulator makes that pass at the write too)");
                }
                break;
            }
            case ProcessStmt:
                break;   // its driver was started with the session
            case MmapStmt m:
            {
                if (_regions.GetValueOrDefault((m.Process, m.Region)) is { Holds: true } held)
                    throw new ScenarioRuntimeException(m.Span, $"live: region '{m.Region}' still names the mapping of line {held.Line}");
                ulong addr = m.Addr is long a ? (ulong)a : SimPlacement(sim, m);
                string? path = m.File is string file ? (OpenFile(file) is { } mf ? $"/proc/{Control.Pid}/fd/{mf.Fd}" : null) : null;
                if (m.File != null && path == null)
                {
                    Rc = -EBADF;   // its file was never created
                    _regions[(m.Process, m.Region)] = new RegionBinding(0, (ulong)m.Length, Rc, m.Span.Line);
                    break;
                }
                if (m.Shared || m.File != null) _fileMapped.Add(m.Process);
                long rc = Proc(m.Process).SendRc(MmapCommand(addr, m.Length, ProtBits(m.Prot), m.Shared, path, m.FileOffset));
                if (m.Addr == null && rc == -Errno.EEXIST)
                {
                    rc = Proc(m.Process).SendRc(MmapCommand(0, m.Length, ProtBits(m.Prot), m.Shared, path, m.FileOffset));
                    Notes.Add($"line {m.Span.Line}: the simulator's address {addr:x} for '{m.Region}' is taken on the live side; the kernel chose {rc:x}");
                }
                Rc = rc;
                _regions[(m.Process, m.Region)] = new RegionBinding(rc >= 0 ? (ulong)rc : 0, (ulong)m.Length, rc, m.Span.Line);
                break;
            }
            case MunmapStmt u:
            {
                var r = Region(u.Process, u.Region, u.Span);
                ulong start = r.Start + (ulong)(u.Offset ?? 0), len = u.Length is long l ? (ulong)l : r.Length;
                Rc = Proc(u.Process).SendRc($"munmap {start} {len}");
                if (Rc == 0) Forget(u.Process, start, len);
                if (Rc == 0 && start <= r.Start && start + len >= r.Start + r.Length) _regions[(u.Process, u.Region)] = r with { Unmapped = true };
                break;
            }
            case MprotectStmt mp:
                Rc = Proc(mp.Process).SendRc($"mprotect {Region(mp.Process, mp.Region, mp.Span).Start + (ulong)mp.Offset} {mp.Length} {ProtBits(mp.Prot)}");
                break;
            case MadviseStmt ma:
            {
                ulong start = Region(ma.Process, ma.Region, ma.Span).Start + (ulong)ma.Offset;
                Rc = Proc(ma.Process).SendRc($"madvise {start} {ma.Length} {AdviceNumber(ma.Advice)}");
                // Holes give -ENOMEM after the mapped parts were advised; any other error changed nothing.
                bool applied = Rc == 0 || Rc == -Errno.ENOMEM;
                if (applied && ma.Advice == Advice.Dontneed) Forget(ma.Process, start, (ulong)ma.Length);
                if (applied && ma.Advice == Advice.Free) MaybeZero(ma.Process, start, (ulong)ma.Length);
                if (ma.Advice == Advice.Remove) Removed(ma.Process, start, (ulong)ma.Length);
                break;
            }
            case AccessStmt ac:
                Rc = Access(ac);
                break;
            case PrctlStmt pr:
                Rc = Proc(pr.Process).SendRc($"prctl_thp_disable {pr.Value}");
                break;
            case ForkStmt f:
            {
                // fork itself faults nothing in the model; what the drivers fault around it is their own.
                var parent = Proc(f.Process);
                var before = LiveProcfs.FaultCounts(parent.Pid);
                var child = parent.Fork(FifoDir());
                var after = LiveProcfs.FaultCounts(parent.Pid);
                var own = _ownFaults[f.Process];
                _ownFaults[f.Process] = (own.Minflt + after.Minflt - before.Minflt, own.Majflt + after.Majflt - before.Majflt);
                _ownFaults[f.Child] = LiveProcfs.FaultCounts(child.Pid);
                lock (_procs) { _procs[f.Child] = child; }
                _expected[f.Child] = new Dictionary<ulong, (ulong, bool)>(_expected[f.Process]);
                if (_fileMapped.Contains(f.Process)) _fileMapped.Add(f.Child);
                foreach (var ((p, r), b) in _regions.Where(kv => kv.Key.Item1 == f.Process).ToList()) _regions[(f.Child, r)] = b;
                Rc = 0;
                break;
            }
            case UffdStmt uf:
                Rc = Proc(uf.Process).SendRc(UffdCommand(uf, Region(uf.Process, uf.Region, uf.Span).Start + (ulong)uf.Offset));
                _uffdProcs.Add(uf.Process);
                break;
            case PinStmt pin:
            {
                ulong start = Region(pin.Process, pin.Region, pin.Span).Start + (ulong)pin.Offset;
                Rc = Proc(pin.Process).SendRc($"{(pin.IsPin ? "pin" : "unpin")} {start} {pin.Length}");
                break;
            }
            case MremapStmt mr:
            {
                var r = Region(mr.Process, mr.Region, mr.Span);
                var driver = Proc(mr.Process);
                // MREMAP_FIXED replaces what the destination held: all of it, or for a move of the
                // same length (VMA by VMA, 6.17's remap_move()) only where mapped pieces of the source land.
                var sourcePieces = mr.NewAddr == null ? null
                    : LiveProcfs.Smaps(driver.Pid).Where(v => v.End > r.Start && v.Start < r.Start + r.Length)
                        .Select(v => (Start: Math.Max(v.Start, r.Start), End: Math.Min(v.End, r.Start + r.Length))).ToList();
                ulong target = mr.NewAddr is long a ? (ulong)a : SimMoveTarget(sim, mr, r, driver);
                long rc = driver.SendRc($"mremap {r.Start} {r.Length} {mr.NewLength} {target}");
                Rc = rc;
                if (rc >= 0)
                {
                    ulong pageMask = (ulong)driver.PageSize - 1, to = (ulong)rc;
                    ulong oldLen = (r.Length + pageMask) & ~pageMask, newLen = ((ulong)mr.NewLength + pageMask) & ~pageMask;
                    if (sourcePieces != null && newLen == oldLen)
                        foreach (var (ps, pe) in sourcePieces) Forget(mr.Process, to + (ps - r.Start), pe - ps);
                    else if (sourcePieces != null) Forget(mr.Process, to, newLen);
                    MoveExpected(mr.Process, r.Start, r.Length, (ulong)rc, (ulong)mr.NewLength);
                    _regions[(mr.Process, mr.Region)] = new RegionBinding((ulong)rc, (ulong)mr.NewLength, rc, r.Line);
                }
                else if (sourcePieces != null && mr.NewLength == (long)r.Length)
                {
                    // remap_move() stopped part way: the pieces gone from the old range moved, each replacing its destination.
                    var still = LiveProcfs.Maps(driver.Pid);
                    foreach (var (ps, pe) in sourcePieces.Where(p => !still.Any(v => v.Start < p.End && p.Start < v.End)))
                    {
                        Forget(mr.Process, target + (ps - r.Start), pe - ps);
                        MoveExpected(mr.Process, ps, pe - ps, target + (ps - r.Start), pe - ps);
                    }
                }
                break;
            }
            case ExitStmt ex:
                Proc(ex.Process).Dispose();
                lock (_procs) _procs.Remove(ex.Process);
                _gone.Add(ex.Process);
                break;
            case CgroupStmt cg:
                if (_disposed) throw new InvalidOperationException("the live session has stopped");   // a signal's cleanup ran already
                _cgroups ??= LiveCgroups.Start(_cgroupJournal, _memcg?.Path, WriteControlFile);
                Rc = cg.Exists ? _cgroups.SetLimit(cg.Cgroup, cg.Limit) : _cgroups.Create(cg.Cgroup, cg.Limit);
                break;
            case CgroupAttachStmt ca:
                Rc = _cgroups!.Attach(ca.Cgroup, Proc(ca.Process).Pid);
                break;
            case CgroupReclaimStmt { Size: not null } cr:
                throw new ScenarioRuntimeException(cr.Span, "the live side has cgroup v1 only, which has no memory.reclaim: 'cgroup CG reclaim SIZE' cannot be reproduced (without SIZE it is memory.force_empty)");
            case CgroupReclaimStmt cr:
                Rc = _cgroups!.Reclaim(cr.Cgroup);
                break;
            case MemfdStmt mf:
                BindFile(mf.File, Control.Send($"memfd {mf.File} {mf.Size}"));
                break;
            case TmpfsStmt t:
                if (_disposed) throw new InvalidOperationException("the live session has stopped");   // a signal's cleanup ran already
                _mounts ??= new LiveMounts(_mountJournal);
                Rc = _mounts.Mount(t.Mount, t.Huge, t.Size);
                break;
            case FileStmt fs:
                _mounts ??= new LiveMounts(_mountJournal);
                BindFile(fs.File, Control.Send($"fcreate {Path.Combine(_mounts.PathOf(fs.Mount), fs.File)} {fs.Size}"));
                break;
            case FtruncateStmt or FallocateStmt or LseekStmt or FileIoStmt:
                FileOperation(stmt);
                break;
            case CompactStmt:
                File.WriteAllText("/proc/sys/vm/compact_memory", "1");   // nothing to restore: it only moves pages
                Rc = 0;
                break;
            case SysctlWriteStmt sc when LiveSysctl.Find(sc.Name) is { } sysctl:
                if (!_sysctls.TryGetValue(sysctl.Name, out var change))
                    _sysctls[sysctl.Name] = change = LiveSysctl.Save(sysctl, sysctl.JournalFor(new Settings.LiveSettings().JournalPath));
                Rc = change.Write(sc.Value);
                break;
            case SysctlWriteStmt { Name: "vm.min_free_kbytes" }:
                throw new ScenarioRuntimeException(stmt.Span, "vm.min_free_kbytes is not written on the live machine: the kernel keeps any value written as the user's (user_min_free_kbytes) in place of the ones it computes when THP settings change, and that cannot be undone");
            case AgeStmt or AgeSnapshotStmt:
                throw new ScenarioRuntimeException(stmt.Span, "the live machine cannot be aged: its physical memory is in whatever state its own history left it (docs/fragmentation.md)");
            default:
                throw new ScenarioRuntimeException(stmt.Span, $"the live side cannot run '{stmt.Text}' yet");
        }
    }

    /// <summary>
    /// `khugepaged full-scans N` on the live kernel, one round at a time as the model runs them:
    /// rewriting scan_sleep_millisecs (its 10 minutes) ends khugepaged's sleep for one round
    /// (khugepaged_do_scan()), after which it sleeps again; rounds until full_scans has grown by N,
    /// at most 60 s (-EAGAIN). A round is over once khugepaged is back in its scan sleep (nothing but
    /// the next write wakes it), looked at every millisecond, as often as it used to run. (Letting it
    /// run at a 1 ms scan sleep, as the kernel's selftest waits, left it one to three rounds past the
    /// full scan, its cursor ahead of the model's.) With the thread stopped (no size it collapses is
    /// enabled) no scan can ever complete: -EAGAIN at once, what the 60 s would end in.
    /// </summary>
    long WaitForFullScans(long n)
    {
        if (KhugepagedThread.FindPid() == 0) return -Errno.EAGAIN;
        _khugepagedCpu?.Follow();
        string root = Settings.LiveSettings.Root;
        long Read() => long.Parse(File.ReadAllText($"{root}/khugepaged/full_scans").Trim(), CultureInfo.InvariantCulture);
        long target = Read() + n;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Read() < target)
        {
            // Stopped by a signal: the settings are already restored, so nothing more is written.
            if (DateTime.UtcNow > deadline || _disposed) return -Errno.EAGAIN;
            SettleKhugepaged(KhugepagedThread.Wake(), $"in a round of 'khugepaged full-scans {n}'", TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        }
        return 0;
    }

    string? _fifoDir;
    LiveMemcg? _memcg;

    /// <summary>A private directory for the FIFOs of forked drivers.</summary>
    string FifoDir()
    {
        if (_fifoDir != null) return _fifoDir;
        _fifoDir = Path.Combine(Path.GetTempPath(), $"mthpsim-oracle-{Environment.ProcessId}");
        Directory.CreateDirectory(_fifoDir);
        return _fifoDir;
    }

    /// <summary>
    /// Where a move the kernel chooses should land: where the simulator moved the region, when it moved
    /// it and that range is free here too (so that both sides place it alike; the live process holds
    /// mappings of its own the simulator does not have); else 0, and the kernel chooses.
    /// </summary>
    ulong SimMoveTarget(ScenarioSession sim, MremapStmt mr, RegionBinding r, LiveDriver driver)
    {
        ulong to;
        try { to = sim.Region(mr.Process, mr.Region, mr.Span).Start; }
        catch (Exception e) when (e is ScenarioRuntimeException or KeyNotFoundException) { return 0; }
        if (to == r.Start || to == 0) return 0;
        ulong pageMask = (ulong)driver.PageSize - 1, len = ((ulong)mr.NewLength + pageMask) & ~pageMask;
        if (LiveProcfs.Maps(driver.Pid).Any(v => v.Start < to + len && to < v.End)) return 0;
        Notes.Add($"line {mr.Span.Line}: the move of '{mr.Region}' goes where the simulator put it ({to:x}), with MREMAP_FIXED");
        return to;
    }

    static ulong SimPlacement(ScenarioSession sim, MmapStmt m)
    {
        try { return sim.Region(m.Process, m.Region, m.Span).Start; }
        catch (Exception e) when (e is ScenarioRuntimeException or KeyNotFoundException) { return 0; }   // no placement: the kernel chooses
    }

    long Access(AccessStmt ac)
    {
        var drv = Proc(ac.Process);
        if (_regions[(ac.Process, ac.Region)] is { Mapped: false }) return -Errno.EFAULT;   // a store through MAP_FAILED
        ulong baseAddr = Region(ac.Process, ac.Region, ac.Span).Start;
        ulong off = (ulong)ac.Offset, end = off + (ulong)ac.Length;
        if (ac.Step is not long step) return Touch(ac.Process, drv, baseAddr + off, (ulong)ac.Length, ac.IsWrite, ac.IsRmw);
        ulong each = (ulong)(ac.Each ?? 1);
        for (ulong a = off; a < end; a += (ulong)step)
        {
            long rc = Touch(ac.Process, drv, baseAddr + a, each, ac.IsWrite, ac.IsRmw);
            if (rc != 0) return rc;
        }
        return 0;
    }

    /// <summary>One driver touch (a store by an atomic exchange when <paramref name="atomic"/>); stored tokens are remembered per page for <c>intact</c>.</summary>
    long Touch(string proc, LiveDriver drv, ulong addr, ulong len, bool write, bool atomic = false)
    {
        ulong token = _nextToken;
        var r = drv.Send($"touch {addr} {len} {(atomic ? 2 : write ? 1 : 0)} {token}");
        long rc = long.Parse(r[0], CultureInfo.InvariantCulture);
        long touched = long.Parse(r[1], CultureInfo.InvariantCulture);
        // A handler thread's fills came before the stores to the same pages.
        if (_uffdProcs.Contains(proc)) ApplyUffdLog(proc);
        if (write)
        {
            ulong page = addr & ~((ulong)PageSize - 1);
            // A page of a shared mapping holds the file's content: every mapper and pread see the store.
            var maps = _fileMapped.Contains(proc) ? LiveProcfs.Maps(drv.Pid) : null;
            for (long i = 0; i < touched; i++)
            {
                ulong p = page + (ulong)i * (ulong)PageSize;
                if (maps?.FirstOrDefault(v => v.Start <= p && p < v.End) is { Shared: true } vma)
                {
                    Content(vma.FileKey).Store(PageOf(vma, p), token + (ulong)i);
                    _expected[proc].Remove(p);
                }
                else _expected[proc][p] = (token + (ulong)i, false);   // private: anonymous memory, or the COW copy of a file page
            }
            _nextToken += (ulong)Math.Max(touched, 1);
        }
        return rc;
    }

    // ---- userfaultfd ----

    /// <summary>Processes that used userfaultfd: after each of their statements the driver's log of filled pages is read.</summary>
    readonly HashSet<string> _uffdProcs = new();

    /// <summary>The driver command for a uffd statement at <paramref name="start"/> (see PROTOCOL.md).</summary>
    internal static string UffdCommand(UffdStmt uf, ulong start) => uf.Op switch
    {
        UffdOp.Register => $"uffd_register {start} {uf.Length} {(int)uf.Modes} {(int)uf.Handler}",
        UffdOp.Unregister => $"uffd_unregister {start} {uf.Length}",
        UffdOp.Copy => $"uffd_copy {start} {uf.Length}",
        UffdOp.Zeropage => $"uffd_zeropage {start} {uf.Length}",
        UffdOp.Continue => $"uffd_continue {start} {uf.Length}",
        _ => $"uffd_wp {start} {uf.Length} {(uf.Protect ? 1 : 0)}",
    };

    /// <summary>What UFFDIO_COPY and UFFDIO_ZEROPAGE put into pages since the last look: the program reads that there now.</summary>
    void ApplyUffdLog(string proc)
    {
        var drv = Proc(proc);
        var fills = drv.Send("uffd_log");
        if (fills.Length == 0) return;
        var maps = _fileMapped.Contains(proc) ? LiveProcfs.Maps(drv.Pid) : null;
        foreach (var fill in fills)
        {
            int colon = fill.IndexOf(':');
            ulong page = ulong.Parse(fill.AsSpan(0, colon), CultureInfo.InvariantCulture);
            ulong value = ulong.Parse(fill.AsSpan(colon + 1), CultureInfo.InvariantCulture);
            if (maps?.FirstOrDefault(v => v.Start <= page && page < v.End) is { Shared: true } vma)
            {
                Content(vma.FileKey).Store(PageOf(vma, page), value);
                _expected[proc].Remove(page);
            }
            else _expected[proc][page] = (value, false);   // anonymous memory, or a private file mapping's own page
        }
    }

    // ---- files (shmem) ----

    const int EBADF = 9;
    const int FallocPunchKeepSize = 3;   // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    const int SeekData = 3, SeekHole = 4;

    /// <summary>A scenario file, held open by the control driver (Fd -1: creating it failed with CreateRc).</summary>
    sealed record LiveFile(int Fd, long CreateRc, (uint, uint, ulong) Key);

    readonly Dictionary<string, LiveFile> _files = new();
    /// <summary>Content per file, by identity (device, inode), so a shared anonymous mapping's object has one too.</summary>
    readonly Dictionary<(uint, uint, ulong), FileContent> _contents = new();
    /// <summary>Processes with a shared or file mapping (their own or inherited): only their writes and intact look at /proc/PID/maps.</summary>
    readonly HashSet<string> _fileMapped = new();
    LiveMounts? _mounts;
    /// <summary>The sysctls the scenario set, by name (ordinal order: restored in a fixed order); put back when the session ends.</summary>
    readonly SortedDictionary<string, LiveSysctl> _sysctls = new(StringComparer.Ordinal);

    /// <summary>The driver command for a statement on an open file (fd); <paramref name="token"/> is the first token a pwrite stores.</summary>
    internal static string FileCommand(Statement stmt, int fd, ulong token) => stmt switch
    {
        FtruncateStmt ft => $"ftruncate {fd} {ft.Size}",
        FallocateStmt fa => $"fallocate {fd} {(fa.Punch ? FallocPunchKeepSize : 0)} {fa.Offset} {fa.Length}",
        LseekStmt ls => $"lseek {fd} {(ls.Data ? SeekData : SeekHole)} {ls.Offset}",
        FileIoStmt { Write: true } io => $"pwrite {fd} {io.Offset} {io.Length} {token}",
        FileIoStmt io => $"pread {fd} {io.Offset} {io.Length}",
        _ => throw new ArgumentException($"not a file operation: {stmt.Text}"),
    };

    /// <summary>ftruncate, fallocate, lseek, pwrite, pread on a scenario file; -EBADF for a file whose creation failed.</summary>
    void FileOperation(Statement stmt)
    {
        string name = stmt switch { FtruncateStmt ft => ft.File, FallocateStmt fa => fa.File, LseekStmt ls => ls.File, _ => ((FileIoStmt)stmt).File };
        if (OpenFile(name) is not { } f)
        {
            Rc = -EBADF;
            return;
        }
        ulong token = _nextToken;
        long sizeBefore = stmt is FtruncateStmt ? FileSize(f) : 0;
        Rc = Control.SendRc(FileCommand(stmt, f.Fd, token));
        switch (stmt)
        {
            // Growing only moves i_size (shmem_setattr()): what a whole-folio mapping let a program
            // write past the old end stays and shows (checked live). Anything else truncates.
            case FtruncateStmt ft when Rc == 0 && ft.Size <= sizeBefore:
                Truncated(f, ft.Size);
                break;
            case FallocateStmt { Punch: true } fa when Rc == 0:
                Content(f.Key).Zero(fa.Offset, fa.Length);
                DropZeroPages(f.Key, fa.Offset, fa.Offset + fa.Length);
                break;
            case FileIoStmt { Write: true } io:
                if (Rc > 0) Content(f.Key).Write(io.Offset, Rc, token);
                _nextToken += (ulong)Math.Max(PagesTouched(io.Offset, io.Length), 1);
                break;
        }
    }

    /// <summary>
    /// The driver's mmap command: private anonymous (3 arguments), shared anonymous (SHARED 1), or a
    /// file by PATH (the control driver's /proc fd link) at OFF.
    /// </summary>
    internal static string MmapCommand(ulong addr, long length, int prot, bool shared, string? path, long fileOffset) =>
        path != null ? $"mmap {addr} {length} {prot} {(shared ? 1 : 0)} {path} {fileOffset}"
        : shared ? $"mmap {addr} {length} {prot} 1"
        : $"mmap {addr} {length} {prot}";

    FileContent Content((uint, uint, ulong) key)
    {
        if (!_contents.TryGetValue(key, out var c)) _contents[key] = c = new FileContent(PageSize);
        return c;
    }

    long PageOf(MapsVma vma, ulong addr) => (long)(vma.FileOffsetOf(addr) / (ulong)PageSize);

    long PagesTouched(long off, long len) => len <= 0 ? 0 : (off + len - 1) / PageSize - off / PageSize + 1;

    LiveFile? OpenFile(string name) => _files.TryGetValue(name, out var f) && f.Fd >= 0 ? f : null;

    /// <summary>Binds a file from the driver's <c>ok FD RC</c> (memfd, fcreate); rc is the creation's or ftruncate's error.</summary>
    void BindFile(string name, string[] r)
    {
        long fd = long.Parse(r[0], CultureInfo.InvariantCulture), rc = long.Parse(r[1], CultureInfo.InvariantCulture);
        Rc = fd < 0 ? fd : rc;
        if (fd < 0)
        {
            _files[name] = new LiveFile(-1, fd, default);
            return;
        }
        var st = Control.Send($"fstat {fd}");
        var (major, minor) = LiveProcfs.DevParts(ulong.Parse(st[3], CultureInfo.InvariantCulture));
        var key = (major, minor, ulong.Parse(st[4], CultureInfo.InvariantCulture));
        _files[name] = new LiveFile((int)fd, 0, key);
        _contents[key] = new FileContent(PageSize);
    }

    IEnumerable<(string Proc, LiveDriver Driver)> FileMappers()
    {
        lock (_procs) return _procs.Where(kv => _fileMapped.Contains(kv.Key)).Select(kv => (kv.Key, kv.Value)).ToList();
    }

    /// <summary>st_size of an open file, from the control driver's fstat.</summary>
    long FileSize(LiveFile f)
    {
        var st = Control.Send($"fstat {f.Fd}").Select(w => long.Parse(w, CultureInfo.InvariantCulture)).ToArray();
        if (st[0] < 0) throw new InvalidOperationException($"live: fstat of a file failed: errno {-st[0]}");
        return st[1];
    }

    /// <summary>ftruncate: the content from the new size on is gone, and so are private copies of pages wholly beyond it (truncation unmaps those too).</summary>
    void Truncated(LiveFile f, long size)
    {
        Content(f.Key).Truncate(size);
        ulong holeBegin = (ulong)((size + PageSize - 1) / PageSize * PageSize);
        foreach (var (proc, drv) in FileMappers())
            foreach (var vma in LiveProcfs.Maps(drv.Pid).Where(v => !v.Shared && v.FileKey == f.Key))
                foreach (var k in _expected[proc].Keys.Where(k => k >= vma.Start && k < vma.End && vma.FileOffsetOf(k) >= holeBegin).ToList())
                    _expected[proc].Remove(k);
    }

    /// <summary>
    /// MADV_REMOVE punches the file range behind each VMA of the range in turn, and stops at the first
    /// VMA that is not a shared mapping (-EACCES for a private file mapping, -EINVAL for anonymous memory).
    /// </summary>
    void Removed(string proc, ulong start, ulong len)
    {
        if (Rc != 0 && Rc != -Errno.ENOMEM && Rc != -Errno.EACCES && Rc != -Errno.EINVAL) return;
        ulong end = start + len;
        var vmas = LiveProcfs.Maps(Proc(proc).Pid).Where(v => v.End > start && v.Start < end).OrderBy(v => v.Start).ToList();
        // -EINVAL with no refusing VMA came from the arguments: nothing was removed.
        if (Rc == -Errno.EINVAL && vmas.All(v => v.Shared)) return;
        foreach (var vma in vmas.TakeWhile(v => v.Shared))
        {
            ulong s = Math.Max(vma.Start, start), e = Math.Min(vma.End, end);
            Content(vma.FileKey).Zero((long)vma.FileOffsetOf(s), (long)(e - s));
            DropZeroPages(vma.FileKey, (long)vma.FileOffsetOf(s), (long)vma.FileOffsetOf(e));
        }
    }

    /// <summary>
    /// A punched range of a file (whole pages of [from, to) bytes) zaps the zero pages that UFFDIO_ZEROPAGE put
    /// into private mappings of it (recorded as token 0): those pages show the file again.
    /// </summary>
    void DropZeroPages((uint, uint, ulong) key, long from, long to)
    {
        ulong first = (ulong)((from + PageSize - 1) / PageSize * PageSize), end = (ulong)(to / PageSize * PageSize);
        if (first >= end) return;
        foreach (var (proc, drv) in FileMappers())
            foreach (var vma in LiveProcfs.Maps(drv.Pid).Where(v => !v.Shared && v.FileKey == key))
                foreach (var k in _expected[proc].Where(kv => kv.Value == (0UL, false) && kv.Key >= vma.Start && kv.Key < vma.End
                             && vma.FileOffsetOf(kv.Key) >= first && vma.FileOffsetOf(kv.Key) < end).Select(kv => kv.Key).ToList())
                    _expected[proc].Remove(k);
    }

    /// <summary>
    /// The word at the start of a file page as the file holds it, for a page this process has not
    /// mapped: through the control driver's fd, or for a shared anonymous object through
    /// /proc/PID/map_files (opened just for this: holding it would keep the object alive). Null when
    /// the page is swapped out: reading it would swap it in, so it is taken as preserved; null past
    /// the end of the file, where a load has no content.
    /// </summary>
    ulong? FileWord(int pid, MapsVma vma, ulong addr)
    {
        ulong off = vma.FileOffsetOf(addr);
        var f = _files.Values.FirstOrDefault(x => x.Fd >= 0 && x.Key == vma.FileKey);
        long fd = f?.Fd ?? Control.SendRc($"fopen /proc/{pid}/map_files/{vma.Start:x}-{vma.End:x}");
        if (fd < 0) throw new InvalidOperationException($"live: cannot open the file behind {vma.Start:x}-{vma.End:x} of pid {pid}: errno {-fd}");
        try
        {
            var page = FilePage.Parse(Control.Send($"fpages {fd} {off} 1")[0]);
            return page.State switch
            {
                FilePageState.Cached => page.Value,
                FilePageState.Swapped => null,
                // Past the end of the file a load by this process raises SIGBUS (fault-around maps nothing
                // there), even where a large folio that straddles the end is cached and another process
                // wrote into it through a PMD: there is no content to compare, nor in the simulator.
                _ when (long)off >= FileSize(fd) => null,
                FilePageState.Unreadable => throw new InvalidOperationException($"live: could not read file page at {off} behind {vma.Start:x} of pid {pid}"),
                _ => 0,   // a hole or a fallocated page: reads as zeros
            };
        }
        finally
        {
            if (f == null) Control.SendRc($"fclose {fd}");
        }
    }

    /// <summary>st_size of a file the control driver has open.</summary>
    long FileSize(long fd)
    {
        var st = Control.Send($"fstat {fd}").Select(w => long.Parse(w, CultureInfo.InvariantCulture)).ToArray();
        if (st[0] < 0) throw new InvalidOperationException($"live: fstat failed: errno {-st[0]}");
        return st[1];
    }

    ObservedValue FileObservable(FileObs fo)
    {
        if (!_files.TryGetValue(fo.File, out var f) || f.Fd < 0)
            throw new ScenarioRuntimeException(fo.Span, $"live: file '{fo.File}' does not exist: creating it returned {Errno.Name(f?.CreateRc ?? -EBADF)}");
        if (fo.Attr is FileAttr.Size or FileAttr.Blocks)
        {
            var st = Control.Send($"fstat {f.Fd}").Select(w => long.Parse(w, CultureInfo.InvariantCulture)).ToArray();
            if (st[0] < 0) throw new InvalidOperationException($"live: fstat of '{fo.File}' failed: errno {-st[0]}");
            return new(fo.Attr == FileAttr.Size ? st[1] : st[2] * 512 / 1024, null);   // st_blocks counts 512-byte units
        }
        var page = FilePage.Parse(Control.Send($"fpages {f.Fd} {fo.Offset} 1")[0]);
        if (page.State == FilePageState.Unreadable) throw new InvalidOperationException($"live: could not read the page cache of '{fo.File}' at {fo.Offset}");
        if (fo.Attr == FileAttr.FolioKind) return new(0, page.Kind);
        if (page.State == FilePageState.NotUptodate)
            throw new ScenarioRuntimeException(fo.Span, $"live: the order of the folio at {fo.File}+{fo.Offset} cannot be observed: it was fallocated and never written "
                + "(not uptodate; faulting it in to find its page frame would zero it and turn it into data)");
        return new(page.FolioOrder, null);
    }

    /// <summary>The pages moved by mremap keep their contents at the new address; a shrunk tail is gone.</summary>
    void MoveExpected(string proc, ulong from, ulong oldLen, ulong to, ulong newLen)
    {
        var e = _expected[proc];
        var old = e.Where(kv => kv.Key >= from && kv.Key < from + oldLen).ToList();
        foreach (var (k, _) in old) e.Remove(k);
        foreach (var (k, v) in old)
            if (k - from < newLen) e[k - from + to] = v;
    }

    void Forget(string proc, ulong start, ulong len)
    {
        foreach (var k in _expected[proc].Keys.Where(k => k >= start && k < start + len).ToList()) _expected[proc].Remove(k);
    }

    void MaybeZero(string proc, ulong start, ulong len)
    {
        foreach (var k in _expected[proc].Keys.Where(k => k >= start && k < start + len).ToList())
            _expected[proc][k] = (_expected[proc][k].Token, true);
    }

    /// <summary>Evaluates an observable on the live kernel.</summary>
    public ObservedValue Evaluate(Observable o)
    {
        switch (o)
        {
            case RcObs:
                return new(Rc, null);
            case SysfsObs so:
            {
                string text = File.ReadAllText($"{Settings.LiveSettings.Root}/{so.Path}").Trim();
                if (SysfsParse.SelectedWord(text) is string word) return new(0, word);
                long v = long.Parse(text, CultureInfo.InvariantCulture);
                return new(_thpStart.TryGetValue(so.Path, out long start) ? v - start : v, null);
            }
            case VmstatObs vo:
            {
                LiveProcfs.RefreshStats();
                long now = LiveProcfs.Vmstat().GetValueOrDefault(vo.Name);
                return new(_simVmstatStart.GetValueOrDefault(vo.Name) + now - _vmstatStart.GetValueOrDefault(vo.Name), null);
            }
            case MeminfoObs mo:
            {
                LiveProcfs.RefreshStats();
                long now = LiveProcfs.Meminfo().GetValueOrDefault(mo.Name);
                return new(_simMeminfoStart.GetValueOrDefault(mo.Name) + now - _meminfoStart.GetValueOrDefault(mo.Name), null);
            }
            case SmapsObs sm:
                return new(Smaps(sm), null);
            case ThpmapsObs tm:
                return new(Thpmaps(tm), null);
            case FolioObs fo:
            {
                ulong addr = Region(fo.Process, fo.Region, fo.Span).Start + (ulong)fo.Offset;
                var page = LivePage.Parse(Proc(fo.Process).Send($"pages {addr & ~((ulong)PageSize - 1)} {PageSize}")[0]);
                return fo.Attr == FolioAttr.Order ? new(page.FolioOrder, null) : new(0, page.Kind);
            }
            case IntactObs io:
                // Reading the pages makes their PTEs young: smaps' Referenced may change.
                ForgetReadings();
                return new(Intact(io) ? 1 : 0, null);
            case FileObs fo:
                return FileObservable(fo);
            case AliveObs ao:
                return new(_gone.Contains(ao.Process) ? 0 : 1, null);
            case CgroupObs co:
                return new(_cgroups!.Read(co.Cgroup, co.Max) >> 10, null);
            case UffdFaultsObs uo:
                return new(long.Parse(Proc(uo.Process).Send("uffd_faults")[0], CultureInfo.InvariantCulture), null);
            case FaultCountObs fc:
            {
                var (min, maj) = LiveProcfs.FaultCounts(Proc(fc.Process).Pid);
                var own = _ownFaults[fc.Process];
                return new(fc.Major ? maj - own.Majflt : min - own.Minflt, null);
            }
        }
        if (o is ContPteObs)
            throw new ScenarioRuntimeException(o.Span, $"'{o}' reads arm64's contiguous bit, which no interface of the live kernel shows");
        if (o is CostObs or WorkObs or TlbObs)
            throw new ScenarioRuntimeException(o.Span, $"'{o}' is a simulator's estimate; the live kernel counts neither its work nor TLB entries per process");
        throw new ScenarioRuntimeException(o.Span, $"the live side cannot evaluate '{o}'");
    }

    /// <summary>
    /// What a process's smaps and a region's thpmaps read since the last statement: the expectations
    /// after a statement (a fuzz scenario checks hundreds) read each file once, as nothing changed it.
    /// </summary>
    readonly Dictionary<int, List<SmapsVma>> _smapsRead = new();
    readonly Dictionary<(string Process, string Region), SortedDictionary<string, long>> _thpmapsRead = new();

    void ForgetReadings()
    {
        _smapsRead.Clear();
        _thpmapsRead.Clear();
    }

    List<SmapsVma> SmapsOf(int pid)
    {
        if (!_smapsRead.TryGetValue(pid, out var vmas)) _smapsRead[pid] = vmas = LiveProcfs.Smaps(pid);
        return vmas;
    }

    long Smaps(SmapsObs sm)
    {
        var r = Region(sm.Process, sm.Region, sm.Span);
        var vmas = SmapsOf(Proc(sm.Process).Pid);
        if (sm.Field == "THPeligible")
            return vmas.FirstOrDefault(v => v.Start <= r.Start && r.Start < v.End)?.Fields.GetValueOrDefault("THPeligible") ?? 0;
        return vmas.Where(v => v.End > r.Start && v.Start < r.Start + r.Length).Sum(v => v.Fields.GetValueOrDefault(sm.Field));
    }

    long Thpmaps(ThpmapsObs tm)
    {
        if (!_thpmapsRead.TryGetValue((tm.Process, tm.Region), out var keys))
        {
            var r = Region(tm.Process, tm.Region, tm.Span);
            var drv = Proc(tm.Process);
            var list = SmapsOf(drv.Pid).Where(v => v.End > r.Start && v.Start < r.Start + r.Length)
                .Select(v => ThpmapsVmaOf(drv, v, Math.Max(v.Start, r.Start), Math.Min(v.End, r.Start + r.Length))).ToList();
            _thpmapsRead[(tm.Process, tm.Region)] = keys = ThpmapsCalculator.Compute(list, PmdOrder, PageSize >> 10);
        }
        return keys.GetValueOrDefault(tm.Key);
    }

    /// <summary>A page table holds PageSize / 8 entries: the PMD order is log2 of that.</summary>
    int PmdOrder => System.Numerics.BitOperations.Log2((ulong)PageSize) - 3;

    /// <summary>
    /// What tools/mm/thpmaps reads of [s, e) in one VMA of a driver: its pagemap and kpageflags (through
    /// the driver's <c>pages</c>), its protection and Rss; a VMA the tool skips is not read further.
    /// </summary>
    ThpmapsVma ThpmapsVmaOf(LiveDriver drv, SmapsVma v, ulong s, ulong e)
    {
        bool rss = v.Fields.GetValueOrDefault("Rss") > 0;
        if (!v.Accessible || !rss) return new ThpmapsVma(v.Accessible, rss, [], 0);
        var words = drv.Send($"pages {s} {e - s}");
        var pages = new List<ThpPage>();
        long hugeZeroPages = 0;
        for (int i = 0; i < words.Length; i++)
        {
            var lp = LivePage.Parse(words[i]);
            if (lp.Kind == "hugezero") hugeZeroPages++;
            if (!lp.Present || !KPageFlags.Has(lp.Flags, KPageFlags.Thp)) continue;
            long vfn = (long)(s / (ulong)PageSize) + i;
            pages.Add(new ThpPage(vfn, lp.Pfn, KPageFlags.Has(lp.Flags, KPageFlags.Anon), KPageFlags.Has(lp.Flags, KPageFlags.CompoundHead), lp.NextIsTail));
        }
        long pageKb = PageSize >> 10;
        // A whole VMA: its PMD-mapped memory as the tool takes it, from smaps.
        if (s == v.Start && e == v.End)
            return new ThpmapsVma(true, true, pages, v.Fields.GetValueOrDefault("AnonHugePages") / pageKb,
                (v.Fields.GetValueOrDefault("ShmemPmdMapped") + v.Fields.GetValueOrDefault("FilePmdMapped")) / pageKb);
        // Part of one: PAGEMAP_SCAN's PMD-mapped pages in the range, less the huge zero PMD, which
        // AnonHugePages leaves out. A VMA's PMD mappings are all anonymous or all shmem/file (a private
        // file mapping's COW copies are small), so smaps says which.
        long pmdPages = drv.SendRc($"pmdmapped {s} {e - s}") - hugeZeroPages;
        bool filePmd = v.Fields.GetValueOrDefault("ShmemPmdMapped") + v.Fields.GetValueOrDefault("FilePmdMapped") > 0;
        return filePmd ? new ThpmapsVma(true, true, pages, 0, pmdPages) : new ThpmapsVma(true, true, pages, pmdPages);
    }

    /// <summary>
    /// The thpmaps keys of every VMA of a scenario process's driver, as the kernel's tools/mm/thpmaps
    /// prints them per VMA with --inc-empty and every --cont size (empty for a VMA it skips), through
    /// the same reading and calculator as the <c>thpmaps</c> observable; for checking that calculator
    /// against the tool itself.
    /// </summary>
    public List<(ulong Start, ulong End, SortedDictionary<string, long> Keys)> ThpmapsOfProcess(string process)
    {
        var drv = Proc(process);
        return LiveProcfs.Smaps(drv.Pid)
            .Select(v => (v.Start, v.End, ThpmapsCalculator.ComputeVma(ThpmapsVmaOf(drv, v, v.Start, v.End), PmdOrder, PageSize >> 10)))
            .ToList();
    }

    /// <summary>The scenario processes whose drivers are running, with their pids.</summary>
    public List<(string Name, int Pid)> Processes()
    {
        lock (_procs) return _procs.Select(kv => (kv.Key, kv.Value.Pid)).ToList();
    }

    bool Intact(IntactObs io)
    {
        var r = Region(io.Process, io.Region, io.Span);
        var drv = Proc(io.Process);
        var values = drv.Send($"peek {r.Start} {r.Length}");
        var expected = _expected[io.Process];
        var maps = _fileMapped.Contains(io.Process) ? LiveProcfs.Maps(drv.Pid) : null;
        string[]? pages = null;
        for (int i = 0; i < values.Length; i++)
        {
            ulong page = r.Start + (ulong)i * (ulong)PageSize;
            // Swapped out: reading it would swap it in (and change what the scenario observes), so it is
            // taken as preserved; its content is checked once something swaps it back in.
            if (values[i] == "s") continue;
            // A shared page, or a private file page never written here (no COW copy): the file's content,
            // as mapped here or, where nothing is mapped, as the file holds it.
            if (maps?.FirstOrDefault(v => v.Start <= page && page < v.End) is { FileBacked: true } vma && (vma.Shared || !expected.ContainsKey(page)))
            {
                // A private copy made without a store (a pin or MADV_POPULATE_WRITE faults for write)
                // holds what the file held then, which this record does not follow: not checked.
                if (!vma.Shared && values[i] != "-")
                {
                    pages ??= drv.Send($"pages {r.Start} {r.Length}");
                    if (KPageFlags.Has(LivePage.Parse(pages[i]).Flags, KPageFlags.Anon)) continue;
                }
                ulong want = Content(vma.FileKey).Word(PageOf(vma, page));
                ulong? got = values[i] != "-" ? ulong.Parse(values[i], CultureInfo.InvariantCulture) : FileWord(drv.Pid, vma, page);
                if (got is ulong g && g != want) return false;
                continue;
            }
            ulong actual = values[i] == "-" ? 0 : ulong.Parse(values[i], CultureInfo.InvariantCulture);
            var (token, maybeZero) = expected.GetValueOrDefault(page);
            bool ok = maybeZero ? actual == 0 || actual == token : actual == token;
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>Changes of the THP counters since the baseline (per-size stats, khugepaged, vmstat thp_*).</summary>
    public Dictionary<string, long> CounterDeltas()
    {
        LiveProcfs.RefreshStats();
        var d = new Dictionary<string, long>();
        foreach (var (k, v) in LiveProcfs.ThpCounters()) d[$"sysfs/{k}"] = v - _thpStart.GetValueOrDefault(k);
        foreach (var (k, v) in LiveProcfs.Vmstat())
            if (k.StartsWith("thp_", StringComparison.Ordinal) || k == "nr_anon_transparent_hugepages")
                d[$"vmstat/{k}"] = v - _vmstatStart.GetValueOrDefault(k);
        return d;
    }

    /// <summary>Stops every driver; safe to call from a signal handler while the session is starting.</summary>
    volatile bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        lock (_procs)
        {
            foreach (var d in _procs.Values) d.Dispose();
            _procs.Clear();
            _control?.Dispose();
        }
        if (_fifoDir != null) { try { Directory.Delete(_fifoDir, recursive: true); } catch (IOException) { } }
        _mounts?.Dispose();   // after the drivers, which held the files; before the memcg, which its files are charged to
        foreach (var change in _sysctls.Values) change.Dispose();
        _cgroups?.Dispose();   // the scenario's groups, empty once the drivers are gone; inside the memcg
        _memcg?.Dispose();
        _khugepagedCpu?.Dispose();
    }
}
