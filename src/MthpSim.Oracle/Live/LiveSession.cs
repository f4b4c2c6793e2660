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
    LiveDriver? _control;
    Dictionary<string, long> _vmstatStart = new(), _meminfoStart = new(), _thpStart = new();
    Dictionary<string, long> _simVmstatStart = new(), _simMeminfoStart = new();
    ulong _nextToken = 1;

    /// <summary>A driver that plays no scenario process: it keeps khugepaged's list non-empty and writes sysfs files.</summary>
    public LiveDriver Control => _control ?? throw new InvalidOperationException("the live session has not started");
    public long Rc { get; private set; }
    public long PageSize => Control.PageSize;
    public List<string> Notes { get; } = new();

    public LiveSession(string binary) => _binary = binary;

    /// <summary>
    /// Starts the control driver and one driver per scenario process before the baseline is taken,
    /// so that their own start-up (page tables, stacks, mTHP faults under the scenario's settings)
    /// never shows in the scenario's counters.
    /// </summary>
    public void Start(Kernel sim, IEnumerable<string> processes, bool freeHugeZeroPage, bool needsReclaim)
    {
        lock (_procs) _control = new LiveDriver(_binary);
        KeepKhugepagedAsleep();
        SettleKhugepaged(KhugepagedThread.Wake(), "before the scenario");
        if (needsReclaim)
        {
            _memcg = LiveMemcg.TryCreate(out string? why)
                ?? throw new OracleUnavailableException($"'reclaim' needs a private memory cgroup for the drivers: {why}");
        }
        foreach (var name in processes)
        {
            var d = new LiveDriver(_binary);
            lock (_procs) { _procs[name] = d; _expected[name] = new(); }
            _ownFaults[name] = LiveProcfs.FaultCounts(d.Pid);
            _memcg?.Add(d.Pid);
        }
        if (freeHugeZeroPage) LiveProcfs.FreeHugeZeroPage();
        _simVmstatStart = sim.VmstatNames().ToDictionary(n => n, n => sim.Vmstat(n)!.Value);
        _simMeminfoStart = Kernel.MeminfoFields.ToDictionary(n => n, n => sim.Meminfo(n)!.Value);
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
    void SettleKhugepaged(KhugepagedThread.Sample woken, string when)
    {
        if (!KhugepagedThread.WaitAsleep(woken, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30)))
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
        Advice.Collapse => 25, Advice.PopulateRead => 22, Advice.PopulateWrite => 23, Advice.Pageout => 21, _ => 20,
    };

    /// <summary>Carries out one statement on the live kernel; <paramref name="sim"/> (already stepped) supplies the simulator's placement for <c>any</c>.</summary>
    public void Execute(Statement stmt, ScenarioSession sim)
    {
        switch (stmt)
        {
            case MachineStmt or ExpectStmt or PrintStmt:
                break;
            case PolicyStmt:
                break;   // only pmd-only gets here (OracleRunner refuses the others): the live kernel's own design
            case ReclaimStmt:
                _memcg!.Reclaim();
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
                // Enabling the PMD size while khugepaged is stopped starts a new thread, which
                // scans before it first sleeps: wait that pass out, so that it ends here, not later.
                int pid = KhugepagedThread.FindPid();
                if (pid != 0 && pid != before.Pid)
                {
                    SettleKhugepaged(before, $"after line {w.Span.Line}");
                    long collapsed = KhugepagedThread.Read(pid).PagesCollapsed - before.PagesCollapsed;
                    if (collapsed != 0)
                        Notes.Add($"line {w.Span.Line}: the write started khugepaged, whose first pass collapsed {collapsed} pages (the simulator runs khugepaged only in khugepaged statements)");
                }
                break;
            }
            case ProcessStmt:
                break;   // its driver was started with the session
            case MmapStmt m:
            {
                ulong addr = m.Addr is long a ? (ulong)a : SimPlacement(sim, m);
                long rc = Proc(m.Process).SendRc($"mmap {addr} {m.Length} {ProtBits(m.Prot)}");
                if (m.Addr == null && rc == -Errno.EEXIST)
                {
                    rc = Proc(m.Process).SendRc($"mmap 0 {m.Length} {ProtBits(m.Prot)}");
                    Notes.Add($"line {m.Span.Line}: the simulator's address {addr:x} for '{m.Region}' is taken on the live side; the kernel chose {rc:x}");
                }
                Rc = rc;
                _regions[(m.Process, m.Region)] = new RegionBinding(rc >= 0 ? (ulong)rc : 0, (ulong)m.Length, rc);
                break;
            }
            case MunmapStmt u:
            {
                var r = Region(u.Process, u.Region, u.Span);
                ulong start = r.Start + (ulong)(u.Offset ?? 0), len = u.Length is long l ? (ulong)l : r.Length;
                Rc = Proc(u.Process).SendRc($"munmap {start} {len}");
                if (Rc == 0) Forget(u.Process, start, len);
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
                foreach (var ((p, r), b) in _regions.Where(kv => kv.Key.Item1 == f.Process).ToList()) _regions[(f.Child, r)] = b;
                Rc = 0;
                break;
            }
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
                long rc = driver.SendRc($"mremap {r.Start} {r.Length} {mr.NewLength} {(mr.NewAddr is long a ? (ulong)a : 0)}");
                Rc = rc;
                if (rc >= 0)
                {
                    ulong pageMask = (ulong)driver.PageSize - 1, to = (ulong)rc;
                    ulong oldLen = (r.Length + pageMask) & ~pageMask, newLen = ((ulong)mr.NewLength + pageMask) & ~pageMask;
                    if (sourcePieces != null && newLen == oldLen)
                        foreach (var (ps, pe) in sourcePieces) Forget(mr.Process, to + (ps - r.Start), pe - ps);
                    else if (sourcePieces != null) Forget(mr.Process, to, newLen);
                    MoveExpected(mr.Process, r.Start, r.Length, (ulong)rc, (ulong)mr.NewLength);
                    _regions[(mr.Process, mr.Region)] = new RegionBinding((ulong)rc, (ulong)mr.NewLength, rc);
                }
                break;
            }
            case ExitStmt ex:
                Proc(ex.Process).Dispose();
                lock (_procs) _procs.Remove(ex.Process);
                break;
            default:
                throw new ScenarioRuntimeException(stmt.Span, $"the live side cannot run '{stmt.Text}' yet");
        }
    }

    /// <summary>
    /// `khugepaged full-scans N` on the live kernel, as the kernel's khugepaged selftest waits: let
    /// khugepaged run (scan sleep 1 ms) until full_scans has grown by N, at most 60 s (-EAGAIN), then
    /// put it back to sleep.
    /// </summary>
    long WaitForFullScans(long n)
    {
        string root = Settings.LiveSettings.Root;
        long Read() => long.Parse(File.ReadAllText($"{root}/khugepaged/full_scans").Trim(), CultureInfo.InvariantCulture);
        long target = Read() + n;
        Settings.SysfsFile.WriteValue($"{root}/khugepaged/scan_sleep_millisecs", "1");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        try
        {
            while (Read() < target)
            {
                if (DateTime.UtcNow > deadline) return -Errno.EAGAIN;
                // Stopped by a signal: the settings are already restored, so nothing more is written.
                if (_disposed) return -Errno.EAGAIN;
                Thread.Sleep(2);
            }
            return 0;
        }
        finally
        {
            if (!_disposed) PutKhugepagedToSleep(n);
        }
    }

    /// <summary>The long scan sleep again; the write wakes khugepaged once more, so that pass is let end before the next statement.</summary>
    void PutKhugepagedToSleep(long n)
    {
        var woken = KhugepagedThread.Read();
        Settings.SysfsFile.WriteValue($"{Settings.LiveSettings.Root}/khugepaged/scan_sleep_millisecs", "600000");
        SettleKhugepaged(woken, $"after 'khugepaged full-scans {n}'");
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

    static ulong SimPlacement(ScenarioSession sim, MmapStmt m)
    {
        try { return sim.Region(m.Process, m.Region, m.Span).Start; }
        catch (ScenarioRuntimeException) { return 0; }
    }

    long Access(AccessStmt ac)
    {
        var drv = Proc(ac.Process);
        ulong baseAddr = Region(ac.Process, ac.Region, ac.Span).Start;
        ulong off = (ulong)ac.Offset, end = off + (ulong)ac.Length;
        if (ac.Step is not long step) return Touch(ac.Process, drv, baseAddr + off, (ulong)ac.Length, ac.IsWrite);
        ulong each = (ulong)(ac.Each ?? 1);
        for (ulong a = off; a < end; a += (ulong)step)
        {
            long rc = Touch(ac.Process, drv, baseAddr + a, each, ac.IsWrite);
            if (rc != 0) return rc;
        }
        return 0;
    }

    /// <summary>One driver touch; stored tokens are remembered per page for <c>intact</c>.</summary>
    long Touch(string proc, LiveDriver drv, ulong addr, ulong len, bool write)
    {
        ulong token = _nextToken;
        var r = drv.Send($"touch {addr} {len} {(write ? 1 : 0)} {token}");
        long rc = long.Parse(r[0], CultureInfo.InvariantCulture);
        long touched = long.Parse(r[1], CultureInfo.InvariantCulture);
        if (write)
        {
            ulong page = addr & ~((ulong)PageSize - 1);
            for (long i = 0; i < touched; i++) _expected[proc][page + (ulong)i * (ulong)PageSize] = (token + (ulong)i, false);
            _nextToken += (ulong)Math.Max(touched, 1);
        }
        return rc;
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
                return new(Intact(io) ? 1 : 0, null);
            case FaultCountObs fc:
            {
                var (min, maj) = LiveProcfs.FaultCounts(Proc(fc.Process).Pid);
                var own = _ownFaults[fc.Process];
                return new(fc.Major ? maj - own.Majflt : min - own.Minflt, null);
            }
        }
        throw new ScenarioRuntimeException(o.Span, $"the live side cannot evaluate '{o}'");
    }

    long Smaps(SmapsObs sm)
    {
        var r = Region(sm.Process, sm.Region, sm.Span);
        var vmas = LiveProcfs.Smaps(Proc(sm.Process).Pid);
        if (sm.Field == "THPeligible")
            return vmas.FirstOrDefault(v => v.Start <= r.Start && r.Start < v.End)?.Fields.GetValueOrDefault("THPeligible") ?? 0;
        return vmas.Where(v => v.End > r.Start && v.Start < r.Start + r.Length).Sum(v => v.Fields.GetValueOrDefault(sm.Field));
    }

    long Thpmaps(ThpmapsObs tm)
    {
        var r = Region(tm.Process, tm.Region, tm.Span);
        var drv = Proc(tm.Process);
        var list = LiveProcfs.Smaps(drv.Pid).Where(v => v.End > r.Start && v.Start < r.Start + r.Length)
            .Select(v => ThpmapsVmaOf(drv, v, Math.Max(v.Start, r.Start), Math.Min(v.End, r.Start + r.Length))).ToList();
        return ThpmapsCalculator.Compute(list, PmdOrder, PageSize >> 10).GetValueOrDefault(tm.Key);
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
        // AnonHugePages leaves out (the drivers' scenario memory is anonymous).
        long pmdPages = drv.SendRc($"pmdmapped {s} {e - s}") - hugeZeroPages;
        return new ThpmapsVma(true, true, pages, pmdPages);
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
        var values = Proc(io.Process).Send($"peek {r.Start} {r.Length}");
        var expected = _expected[io.Process];
        for (int i = 0; i < values.Length; i++)
        {
            ulong page = r.Start + (ulong)i * (ulong)PageSize;
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
        _memcg?.Dispose();
    }
}
