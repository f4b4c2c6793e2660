using MthpSim.Core;
using MthpSim.Core.Vma;
using MthpSim.Trace.Format;

namespace MthpSim.Trace.Replay;

/// <summary>
/// Replays a recorded trace on a simulated machine through the model's system-call surface: the
/// trace's thread groups become processes (fork copies the mm, vfork and threads share it, exec
/// replaces it), its mappings become VMAs at the recorded addresses, and each recorded fault becomes
/// the access that took it. The trace's clock drives the virtual clock, so khugepaged runs as
/// it would have. Whatever the model cannot do is counted in <see cref="Problems"/>, never dropped.
/// </summary>
public sealed class TraceReplay
{
    readonly Kernel _k;
    readonly ReplayFiles _files;
    readonly Dictionary<int, ReplayProcess> _procs = [];
    ReplayProcess? _lastProcess;
    /// <summary>Processes in the order the trace creates them (exec or fork), as <see cref="ReplayNames"/> numbers them.</summary>
    readonly List<ReplayProcess> _numbered = [];
    readonly List<ProcessSnapshot> _snapshots = [];
    readonly SortedDictionary<string, (long Count, string First)> _problems = new(StringComparer.Ordinal);
    readonly ulong _pageSize;
    long _clockOriginNs = -1, _clockMs;
    /// <summary>The trace time from which the virtual clock is a millisecond further (no division per record).</summary>
    long _nextTickNs;

    /// <summary>How far below the stack a fault still grows it (the default 8 MiB RLIMIT_STACK).</summary>
    const ulong StackLimit = 8UL << 20;

    /// <summary>Fault records deferred to be taken as one access (<see cref="FlushRun"/>): the pages from _runStart on.</summary>
    readonly RunFault[] _run = new RunFault[MaxRun];
    int _runCount;
    ReplayProcess? _runProcess;
    ReplayAddressSpace? _runSpace;
    ulong _runStart, _runLimit;
    bool _runWrite;
    /// <summary>The trace time the run may last until (see <see cref="RunQuietLimitNs"/>); -1 until a record is later than the first's millisecond.</summary>
    long _runQuietLimitNs;
    /// <summary>Whether a record of the run is in a later millisecond than the first's.</summary>
    bool _runSpansTicks;
    /// <summary>Each deferred record's time, in ms after the run's first (for <see cref="Kernel.AccessOverTime"/>).</summary>
    readonly long[] _runMs = new long[MaxRun];
    /// <summary>At most a PTE table's worth of records waits (host memory stays fixed).</summary>
    const int MaxRun = 512;

    /// <summary>A deferred fault record: the fields a fault record has, and no reference, so that keeping one is a plain copy.</summary>
    readonly struct RunFault(in TraceEvent e)
    {
        readonly long _time = e.Time;
        readonly ulong _addr = e.Addr, _access = e.Arg2;
        readonly int _pid = e.Pid, _tid = e.Tid;

        public long Time => _time;
        public TraceEvent Event => TraceEvent.Fault(_time, _pid, _tid, _addr, (FaultFlags)_access);
    }

    public long Events { get; private set; }
    public long Faults { get; private set; }
    public IReadOnlyList<ProcessSnapshot> Snapshots => _snapshots;
    /// <summary>What the replay could not do as the trace says, by kind: count and the first record.</summary>
    public IReadOnlyDictionary<string, (long Count, string First)> Problems => _problems;
    public long PrepopulatedPages => _files.PrepopulatedPages;

    public TraceReplay(Kernel k, TraceHeader header)
    {
        string arch = k.Geo.Arch == Core.Arch.CpuArch.X86_64 ? "x86_64" : "arm64";
        if (header.Arch != arch || header.PageSize != k.Geo.PageSize)
            throw new ReplayException($"the trace was recorded on {header.Arch} with {header.PageSize / 1024}K pages; the machine is {arch} with {k.Geo.PageSize / 1024}K pages");
        _k = k;
        _files = new ReplayFiles(k);
        _pageSize = (ulong)k.Geo.PageSize;
    }

    /// <summary>Replays every record of <paramref name="reader"/>, then <see cref="Finish"/>.</summary>
    public static TraceReplay Run(Kernel k, TraceReader reader)
    {
        var r = new TraceReplay(k, reader.Header);
        r.ApplyAll(reader);
        r.Finish();
        return r;
    }

    /// <summary>
    /// Every remaining record of <paramref name="reader"/>, decoded on another thread while the model
    /// runs on this one. Faults that continue a run (see <see cref="ContinuesRun"/>) are taken as one
    /// access over the run, which the model makes exactly the accesses one page at a time would be.
    /// </summary>
    public void ApplyAll(TraceReader reader)
    {
        using var ahead = new TraceReadAhead(reader);
        for (var batch = ahead.NextBatch(); !batch.IsEmpty; batch = ahead.NextBatch())
            foreach (ref readonly var e in batch)
            {
                if (_runCount > 0)
                {
                    if (ContinuesRun(e))
                    {
                        Events++;
                        Faults++;
                        _runProcess!.Faults++;
                        _runSpansTicks |= e.Time >= _nextTickNs;
                        _run[_runCount++] = new RunFault(e);
                        continue;
                    }
                    FlushRun();
                }
                ApplyRecord(e, deferFault: true);
            }
        FlushRun();
    }

    /// <summary>One record, applied at once.</summary>
    public void Apply(in TraceEvent e) => ApplyRecord(e, deferFault: false);

    void ApplyRecord(in TraceEvent e, bool deferFault)
    {
        Events++;
        AdvanceClock(e.Time);
        switch (e.Kind)
        {
            case TraceEventKind.File: _files.Recorded(e.Path ?? "", (long)e.Len); break;
            case TraceEventKind.Exec: Exec(e); break;
            case TraceEventKind.Task: NewTask(e); break;
            case TraceEventKind.Exit: ExitThread(e); break;
            case TraceEventKind.Fault: Fault(e, deferFault); break;
            case TraceEventKind.Lost: Problem("events lost by the recorder", e, (long)e.Arg2); break;
            default:
                if (e.Kind is TraceEventKind.Mmap or TraceEventKind.Munmap or TraceEventKind.Mremap or TraceEventKind.Brk
                    or TraceEventKind.Mprotect or TraceEventKind.Madvise or TraceEventKind.Prctl or TraceEventKind.Syscall
                    && e.Ret < 0) break;   // a failed call changed nothing
                if (SpaceOf(e) is not { } s) return;
                try { Syscall(s, e); }
                catch (NotSupportedException ex) { Problem($"not modelled: {ex.Message}", e); }
                break;
        }
    }

    /// <summary>Takes a snapshot of every process still alive, as if the trace's end were their exit.</summary>
    public void Finish()
    {
        foreach (var p in _procs.Values.Where(p => !p.Exited && p.Space != null).OrderBy(p => p.Pid))
            _snapshots.Add(Snapshot(p, _clockOriginNs + _clockMs * 1_000_000, exited: false));
    }

    /// <summary>A traced process at the end of the replay: its mm while it lives, and its named regions' ranges.</summary>
    public sealed record NumberedProcess(int Number, int Pid, MmStruct? Mm, IReadOnlyDictionary<string, (ulong Start, ulong End)> Regions);

    /// <summary>Every traced process, numbered as <see cref="ReplayNames"/> numbers them, with the ranges of its named regions now.</summary>
    public IEnumerable<NumberedProcess> Numbered()
    {
        for (int i = 0; i < _numbered.Count; i++)
        {
            var p = _numbered[i];
            var regions = new SortedDictionary<string, (ulong, ulong)>(StringComparer.Ordinal);
            var mm = p.Exited ? null : p.Space?.Mm;
            if (mm != null)
            {
                foreach (var v in mm.Vmas)
                {
                    string? name = v.File != null && !v.File.Name.StartsWith("dev/zero", StringComparison.Ordinal) ? ReplayNames.RegionName(v.File.Name)
                        : p.Space!.StackStart >= v.Start && p.Space.StackStart < v.End ? "stack" : null;
                    if (name != null) regions[name] = regions.TryGetValue(name, out var r) ? (Math.Min(r.Item1, v.Start), Math.Max(r.Item2, v.End)) : (v.Start, v.End);
                }
                ulong heapEnd = (mm.Brk + _pageSize - 1) & ~(_pageSize - 1);
                if (heapEnd > mm.StartBrk && mm.StartBrk != 0) regions["heap"] = (mm.StartBrk, heapEnd);
            }
            yield return new NumberedProcess(i + 1, p.Pid, mm, regions);
        }
    }

    void AdvanceClock(long timeNs)
    {
        if (_clockOriginNs < 0) (_clockOriginNs, _nextTickNs) = (timeNs, timeNs + 1_000_000);
        if (timeNs < _nextTickNs) return;
        long ms = MsOf(timeNs);
        _k.Sleep(ms - _clockMs);
        SetClock(ms);
    }

    long MsOf(long timeNs) => (timeNs - _clockOriginNs) / 1_000_000;

    void SetClock(long ms) => (_clockMs, _nextTickNs) = (ms, _clockOriginNs + (ms + 1) * 1_000_000);

    ReplayProcess Process(int pid)
    {
        if (_lastProcess?.Pid == pid) return _lastProcess;   // runs of records of one process are the rule
        if (!_procs.TryGetValue(pid, out var p)) _procs[pid] = p = new ReplayProcess(pid);
        return _lastProcess = p;
    }

    ReplayAddressSpace? SpaceOf(in TraceEvent e)
    {
        var p = Process(e.Pid);
        if (p.Space == null) Problem("event of a process before its first exec in the trace", e);
        return p.Space;
    }

    void Exec(in TraceEvent e)
    {
        var p = Process(e.Pid);
        if (!_numbered.Contains(p)) _numbered.Add(p);
        Release(p);
        p.Exe = e.Path;
        p.Comm = Path.GetFileName(e.Path ?? "?");
        p.Exited = false;
        p.Space = new ReplayAddressSpace(_k.CreateProcess(p.Comm));
    }

    /// <summary>The thread group stops using its mm; the last user's going tears it down (exit_mmap()).</summary>
    void Release(ReplayProcess p)
    {
        if (p.Space is not { } s) return;
        p.Space = null;
        if (--s.Users == 0) _k.Exit(s.Mm);
    }

    void NewTask(in TraceEvent e)
    {
        var parent = Process(e.Pid);
        int child = e.Child;
        ulong flags = e.CloneFlags;
        if ((flags & LinuxAbi.CloneThread) != 0) return;   // a thread: records carry its thread group's pid
        var c = Process(child);
        if (!_numbered.Contains(c)) _numbered.Add(c);
        c.Comm = parent.Comm;
        c.Exe = parent.Exe;
        c.Exited = false;
        if (parent.Space is not { } s) { Problem("fork of a process before its first exec in the trace", e); return; }
        if ((flags & LinuxAbi.CloneVm) != 0)
        {
            c.Space = s;   // vfork or a CLONE_VM process: the same mm until it execs
            s.Users++;
            return;
        }
        var mm = _k.Fork(s.Mm, c.Comm);
        if (mm == null) { Problem("fork ran out of simulated memory", e); return; }
        c.Space = new ReplayAddressSpace(mm) { StackStart = s.StackStart };
        c.Space.Special.AddRange(s.Special);   // the child refaults the vdso: its PTEs are not copied (no anon_vma)
    }

    void ExitThread(in TraceEvent e)
    {
        if (!e.GroupDead) return;
        var p = Process(e.Pid);
        if (p.Space != null) _snapshots.Add(Snapshot(p, e.Time, exited: true));
        Release(p);
        p.Exited = true;
    }

    ProcessSnapshot Snapshot(ReplayProcess p, long timeNs, bool exited)
    {
        var mm = p.Space!.Mm;
        long kb = _k.Geo.PageSize / 1024, vdso = p.Space.VdsoPagesMapped.Count;
        var census = FolioCensus.Of(_k, mm);
        census.FilePagesByOrder[0] += vdso;
        return new ProcessSnapshot(p.Pid, p.Comm, p.Exe, timeNs, exited, p.Faults, mm.MinFlt, mm.MajFlt,
            mm.Rss[(int)RssMember.AnonPages] * kb, (mm.Rss[(int)RssMember.FilePages] + vdso) * kb, mm.Rss[(int)RssMember.ShmemPages] * kb,
            census);
    }

    void Fault(in TraceEvent e, bool defer)
    {
        Faults++;
        var p = Process(e.Pid);
        if (p.Space is not { } s) { Problem("fault of a process before its first exec in the trace", e); return; }
        p.Faults++;
        FaultIn(p, s, e, defer);
    }

    /// <summary>The fault of a counted record: the mapping it needs, then the access (or, deferred, the start of a run).</summary>
    void FaultIn(ReplayProcess p, ReplayAddressSpace s, in TraceEvent e, bool defer)
    {
        ulong page = e.Addr & ~(_pageSize - 1);
        var mm = s.Mm;
        var vma = mm.FindVma(page);
        if (vma == null)
        {
            if (s.SpecialAt(page) is { } special) { if (special.Vdso) s.VdsoPagesMapped.Add(page); return; }
            if (!GrowStack(s, page)) { Problem("fault outside every mapping", e); return; }
            vma = mm.FindVma(page);
        }
        if (s.StackTopUntouched != 0 && page >= s.StackStart && page < s.StackTopUntouched) ExecArgPages(s, page);   // populates: the VMAs stay
        bool write = (e.Access & FaultFlags.Write) != 0;
        if (defer && vma != null)
        {
            (_runProcess, _runSpace, _runStart, _runLimit, _runWrite, _runQuietLimitNs, _runSpansTicks) = (p, s, page, vma.End, write, -1, false);
            _run[_runCount++] = new RunFault(e);
            return;
        }
        FaultProblem(_k.Access(mm, page, page + _pageSize, write), write, e);
    }

    void FaultProblem(long rc, bool write, in TraceEvent e)
    {
        if (rc == -Errno.EFAULT) Problem(write ? "write fault the mapping does not allow (SIGSEGV)" : "read fault the mapping does not allow (SIGSEGV)", e);
        else if (rc < 0) Problem($"fault failed with {Errno.Name(rc)}", e);
    }

    /// <summary>
    /// Whether a record is the next fault of the deferred run: the next page, of the same process,
    /// with the same access, in the VMA of the run's first page, with nothing to do before it (no
    /// exec argument pages to fill) and before the kernel's background work has anything due (it
    /// cannot run between them). Only then is one access over the run the same as one access per record.
    /// </summary>
    bool ContinuesRun(in TraceEvent e)
    {
        ulong page = e.Addr & ~(_pageSize - 1);
        var s = _runSpace!;
        return e.Kind == TraceEventKind.Fault && e.Pid == _runProcess!.Pid && _runCount < MaxRun
            && page == _runStart + (ulong)_runCount * _pageSize && page < _runLimit
            && ((e.Access & FaultFlags.Write) != 0) == _runWrite
            && (s.StackTopUntouched == 0 || page < s.StackStart || page >= s.StackTopUntouched)
            && (e.Time < _nextTickNs || e.Time < (_runQuietLimitNs >= 0 ? _runQuietLimitNs : RunQuietLimitNs()));
    }

    /// <summary>
    /// Time may pass within a run as far as nothing would run in the background meanwhile, as the
    /// kernel's state is when the run starts (<see cref="Kernel.QuietThroughMs"/>; the access stops
    /// where a fault of the run makes something due sooner).
    /// </summary>
    long RunQuietLimitNs() => _runQuietLimitNs = _clockOriginNs + (_k.QuietThroughMs - _k.NowMs + _clockMs + 1) * 1_000_000;

    /// <summary>
    /// Takes the deferred run as one access, each page at its record's time. An access that fails
    /// stops at the failing page: its record gets the problem, and the records after it are taken
    /// one by one, as they would have been; so are those after a page that some background work
    /// became due before (time passes then as it would have).
    /// </summary>
    void FlushRun()
    {
        if (_runCount == 0) return;
        var (p, s) = (_runProcess!, _runSpace!);
        ulong end = _runStart + (ulong)_runCount * _pageSize;
        if (!_runSpansTicks)
        {
            // all in one millisecond: no time passes
            long rc1 = _k.Access(s.Mm, _runStart, end, _runWrite, out ulong failedAt);
            if (rc1 < 0) FinishRun(p, s, (int)((failedAt - _runStart) / _pageSize), rc1);
            _runCount = 0;
            return;
        }
        long firstMs = _clockMs;
        for (int i = 0; i < _runCount; i++) _runMs[i] = MsOf(_run[i].Time) - firstMs;
        long nowBefore = _k.NowMs;
        long rc = _k.AccessOverTime(s.Mm, _runStart, end, _runWrite, _runMs, out ulong stoppedAt);
        SetClock(firstMs + _k.NowMs - nowBefore);
        if (stoppedAt < end) FinishRun(p, s, (int)((stoppedAt - _runStart) / _pageSize), rc);
        _runCount = 0;   // fault records hold no path: nothing stale is kept alive
    }

    /// <summary>The records of the run from <paramref name="next"/> on, one by one, after the access stopped there (with <paramref name="rc"/>: an error of that record's, or 0).</summary>
    void FinishRun(ReplayProcess p, ReplayAddressSpace s, int next, long rc)
    {
        if (rc < 0) FaultProblem(rc, _runWrite, _run[next++].Event);
        for (int i = next; i < _runCount; i++)
        {
            AdvanceClock(_run[i].Time);
            FaultIn(p, s, _run[i].Event, defer: false);
        }
    }

    /// <summary>
    /// execve() writes the argument and environment strings at the top of the new stack through
    /// get_user_pages() (copy_strings()), and create_elf_tables() writes below them, faulting only
    /// where a page is missing: so the stack pages present after exec with no fault recorded are the
    /// ones above the first page the process faults in its stack. They are populated (written) at
    /// that first fault, before it.
    /// </summary>
    void ExecArgPages(ReplayAddressSpace s, ulong faultPage)
    {
        ulong from = faultPage + _pageSize, to = s.StackTopUntouched;
        s.StackTopUntouched = 0;
        if (from < to) _k.Madvise(s.Mm, from, to - from, MadviseAdvice.PopulateWrite);
    }

    /// <summary>models expand_stack(): a fault below the stack, within its limit and above any other mapping, grows it down.</summary>
    bool GrowStack(ReplayAddressSpace s, ulong page)
    {
        if (s.StackStart == 0 || page >= s.StackStart || s.StackStart - page > StackLimit) return false;
        if (s.Mm.AnyIntersecting(page, s.StackStart)) return false;
        if (_k.Mmap(s.Mm, page, s.StackStart - page, Prot.Read | Prot.Write) < 0) return false;
        s.StackStart = page;
        return true;
    }

    void Syscall(ReplayAddressSpace s, in TraceEvent e)
    {
        var mm = s.Mm;
        switch (e.Kind)
        {
            case TraceEventKind.KernelMap: Map(s, e, e.Addr, e.Len, e.Prot, e.MapFlags, e.Offset, e.Path, kernel: true); break;
            case TraceEventKind.Mmap: Map(s, e, (ulong)e.Ret, e.Len, e.Prot, e.MapFlags, e.Offset, e.Path, kernel: false); break;
            case TraceEventKind.Munmap: Check(_k.Munmap(mm, e.Addr, e.Len), e); break;
            case TraceEventKind.Mprotect: Check(_k.Mprotect(mm, e.Addr, e.Len, ToProt(e.Prot)), e); break;
            case TraceEventKind.Mremap:
                if ((e.Arg3 & LinuxAbi.MremapDontUnmap) != 0) { Problem("not modelled: mremap(MREMAP_DONTUNMAP)", e); break; }
                ulong to = (ulong)e.Ret;
                Check(_k.Mremap(mm, e.Addr, e.Len, e.NewLen, to == e.Addr ? null : to), e, expect: e.Ret);
                break;
            case TraceEventKind.Brk: Brk(s, e); break;
            case TraceEventKind.Madvise:
                if (ToAdvice(e.Advice) is { } advice) Check(_k.Madvise(mm, e.Addr, e.Len, advice), e);
                else if (!AdviceWithoutEffect(e.Advice)) Problem($"not modelled: madvise advice {e.Advice}", e);
                break;
            case TraceEventKind.Prctl:
                if (e.Arg2 == LinuxAbi.PrSetThpDisable) Check(_k.PrctlThpDisable(mm, (long)e.Arg3), e);
                break;
            case TraceEventKind.Syscall: Problem($"not modelled: syscall {e.Arg5}", e); break;
        }
    }

    void Map(ReplayAddressSpace s, in TraceEvent e, ulong addr, ulong len, int prot, int flags, ulong offset, string? path, bool kernel)
    {
        var mm = s.Mm;
        len = (len + _pageSize - 1) & ~(_pageSize - 1);
        if (path is "[vdso]" or "[vvar]" or "[vvar_vclock]" or "[vsyscall]" or "[uprobes]") { s.Special.Add((addr, addr + len, path == "[vdso]")); return; }
        if (kernel && path == "[stack]" && s.StackStart != 0)
        {
            // perf reports the stack a fault grew (grown here already, at that fault): only what no VMA covers is new
            foreach (var (from, to) in Holes(mm, addr, addr + len).ToList()) MapRange(s, e, from, to - from, prot, flags, offset, path, kernel);
            s.StackStart = Math.Min(s.StackStart, addr);
            return;
        }
        if (path == "[stack]") (s.StackStart, s.StackTopUntouched) = (addr, kernel ? addr + len : 0);
        // The recorded address is where the kernel put it: a fixed mapping (the ELF loader maps the
        // whole image, then each segment over it) replaces what was there.
        if (mm.AnyIntersecting(addr, addr + len)) _k.Munmap(mm, addr, len);
        MapRange(s, e, addr, len, prot, flags, offset, path, kernel);
    }

    /// <summary>The parts of [start, end) no VMA covers.</summary>
    static IEnumerable<(ulong, ulong)> Holes(MmStruct mm, ulong start, ulong end)
    {
        ulong at = start;
        foreach (var v in mm.Intersecting(start, end))
        {
            if (v.Start > at) yield return (at, v.Start);
            at = Math.Max(at, v.End);
        }
        if (at < end) yield return (at, end);
    }

    void MapRange(ReplayAddressSpace s, in TraceEvent e, ulong addr, ulong len, int prot, int flags, ulong offset, string? path, bool kernel)
    {
        var mm = s.Mm;
        bool shared = (flags & LinuxAbi.MapShared) != 0;
        bool anon = (flags & LinuxAbi.MapAnonymous) != 0 || string.IsNullOrEmpty(path) || path.StartsWith('[') || path == "//anon"
            || (path == "/dev/zero" && !shared);
        long rc;
        if (anon && !shared) rc = _k.Mmap(mm, addr, len, ToProt(prot));
        else if (anon) rc = _k.MmapShmem(mm, addr, len, ToProt(prot), null, 0, shared: true);
        else
        {
            var f = _files.Get(path!, (long)(offset + len));
            rc = _k.MmapShmem(mm, addr, len, ToProt(prot), f, (long)offset, shared);
        }
        if (rc < 0) { Problem($"{(kernel ? "kernel mapping" : "mmap")} failed in the model with {Errno.Name(rc)}", e); return; }
        // calc_vm_flag_bits(): MAP_STACK (glibc's thread stacks) is VM_NOHUGEPAGE since 6.7; set
        // after the mapping, the model's madvise splits it back out of any VMA it merged with
        if ((flags & LinuxAbi.MapStack) != 0) Check(_k.Madvise(mm, addr, len, MadviseAdvice.Nohugepage), e);
        if ((flags & LinuxAbi.MapPopulate) != 0 && !kernel)
            Check(_k.Madvise(mm, addr, len, (prot & LinuxAbi.ProtWrite) != 0 && !shared ? MadviseAdvice.PopulateWrite : MadviseAdvice.PopulateRead), e);
    }

    /// <summary>The first brk() after exec (glibc's query) tells where the heap starts, as the ELF loader set it.</summary>
    void Brk(ReplayAddressSpace s, in TraceEvent e)
    {
        var mm = s.Mm;
        if (mm.StartBrk == 0)
        {
            _k.SetBrkStart(mm, (ulong)e.Ret);
            if (e.Addr != 0) Problem("brk() that moved the break before the heap's start was known (taken as the start)", e);
            return;
        }
        if (e.Addr == 0) return;
        Check(_k.Brk(mm, e.Addr), e, expect: e.Ret);
    }

    void Check(long rc, in TraceEvent e, long expect = 0)
    {
        if (rc != expect) Problem($"{TraceText.Name(e.Kind)} gave {(rc < 0 ? Errno.Name(rc) : $"0x{rc:x}")} in the model, {(expect < 0 ? Errno.Name(expect) : $"0x{expect:x}")} live", e);
    }

    /// <summary>PROT_EXEC keeps VM_EXEC (VMAs differing in it do not merge, which bounds fault-around); x86 pages it makes executable are readable too.</summary>
    static Prot ToProt(int prot) =>
        ((prot & (LinuxAbi.ProtRead | LinuxAbi.ProtExec)) != 0 ? Prot.Read : 0) | ((prot & LinuxAbi.ProtWrite) != 0 ? Prot.Write : 0)
        | ((prot & LinuxAbi.ProtExec) != 0 ? Prot.Exec : 0);

    static MadviseAdvice? ToAdvice(int advice) => advice switch
    {
        4 => MadviseAdvice.Dontneed,
        8 => MadviseAdvice.Free,
        9 => MadviseAdvice.Remove,
        14 => MadviseAdvice.Hugepage,
        15 => MadviseAdvice.Nohugepage,
        20 => MadviseAdvice.Cold,
        21 => MadviseAdvice.Pageout,
        22 => MadviseAdvice.PopulateRead,
        23 => MadviseAdvice.PopulateWrite,
        25 => MadviseAdvice.Collapse,
        _ => null,
    };

    /// <summary>Advice that changes nothing the model has: NORMAL, RANDOM, SEQUENTIAL, WILLNEED (no swap to read ahead from), DONTDUMP, DODUMP.</summary>
    static bool AdviceWithoutEffect(int advice) => advice is 0 or 1 or 2 or 3 or 16 or 17;

    void Problem(string what, in TraceEvent e, long count = 1)
    {
        _problems[what] = _problems.TryGetValue(what, out var p) ? (p.Count + count, p.First) : (count, e.ToString());
    }
}
