using System.Globalization;
using MthpSim.Trace.Format;

namespace MthpSim.Trace.Record;

/// <summary>
/// Turns the text of <c>perf script -F pid,tid,time,event,trace --ns --show-lost-events
/// --show-mmap-events --show-task-events</c> (the recording recipe of docs/trace-format.md) into
/// trace records, one line at a time. System calls become one record at their exit, carrying the
/// path of the mapping perf reported while they ran; mappings made outside a traced call (execve's)
/// become KMAP records; an exec's records are held until its sched_process_exec names the program.
/// Wrapper programs (setarch) are dropped from their exec to the next. Lines it cannot read are
/// counted in <see cref="Unparsed"/> with the first of them, never skipped silently.
/// </summary>
public sealed class PerfScriptConverter(Action<TraceEvent> emit, Func<string, long?>? fileSize = null, IEnumerable<string>? dropImages = null)
{
    readonly HashSet<string> _drop = new((dropImages ?? ["setarch"]).Select(Comm), StringComparer.Ordinal);
    readonly HashSet<int> _dropped = [];
    readonly Dictionary<int, Pending> _inFlight = [];           // by tid: a system call between enter and exit
    readonly Dictionary<int, (long Start, List<TraceEvent> Held)> _execHeld = [];   // by pid: an exec not yet named, from its COMM record
    readonly HashSet<string> _filesSeen = new(StringComparer.Ordinal);

    /// <summary>The user-address limit of x86_64 4-level paging: kernel faults above it are not the program's.</summary>
    const ulong UserLimit = 0x8000_0000_0000UL;

    sealed class Pending
    {
        public int Nr;
        public ulong[] Args = new ulong[6];
        public long EnterNs;
        public string? Path;
    }

    public long Lines { get; private set; }
    public long Unparsed { get; private set; }
    public string? FirstUnparsed { get; private set; }
    /// <summary>sys_exit lines whose sys_enter was not recorded (the call began before recording).</summary>
    public long ExitsWithoutEnter { get; private set; }
    public long LostEvents { get; private set; }

    public void Line(string line)
    {
        Lines++;
        var s = line.AsSpan().TrimStart();
        if (s.IsEmpty) return;
        if (!TryHead(ref s, out int pid, out int tid, out long ns)) { Bad(line); return; }
        s = s.TrimStart();
        if (pid == 0 && tid == 0) return;   // perf's own header records (kernel map, perf-exec's comm)
        if (s.StartsWith("PERF_RECORD_COMM exec: "))
        {
            var comm = s["PERF_RECORD_COMM exec: ".Length..];
            int colon = comm.LastIndexOf(':');
            string name = (colon > 0 ? comm[..colon] : comm).ToString();
            if (_drop.Contains(Comm(name))) { _dropped.Add(pid); return; }
            _dropped.Remove(pid);
            _execHeld[pid] = (ns, []);
            return;
        }
        // Lost records may be anyone's, the wrapper's too: always kept
        if (s.StartsWith("PERF_RECORD_LOST"))
        {
            long n = long.TryParse(Word(s, 2), CultureInfo.InvariantCulture, out long v) ? v : 0;
            LostEvents += n;
            Emit(new TraceEvent { Kind = TraceEventKind.Lost, Time = ns, Pid = pid, Tid = tid, Arg2 = (ulong)n });
            return;
        }
        if (_dropped.Contains(pid))
        {
            // what a wrapper starts is the wrapper's until it execs a program of its own
            int nt = s.IndexOf("task:task_newtask: ");
            if (nt >= 0 && TryField(s[(nt + 19)..], "pid=", out var child) && int.TryParse(child, CultureInfo.InvariantCulture, out int c)) _dropped.Add(c);
            return;
        }
        if (s.StartsWith("PERF_RECORD_MMAP2 ")) { Mmap2(s, pid, tid, ns, line); return; }
        if (s.StartsWith("PERF_RECORD_")) return;   // COMM renames, FORK and EXIT (the tracepoints say it), kernel MMAP
        int colonAt = s.IndexOf(": ");
        if (colonAt < 0) { Bad(line); return; }
        var evt = s[..colonAt];
        var body = s[(colonAt + 2)..];
        switch (evt)
        {
            case "exceptions:page_fault_user": Fault(body, pid, tid, ns, kernel: false, line); break;
            case "exceptions:page_fault_kernel": Fault(body, pid, tid, ns, kernel: true, line); break;
            case "raw_syscalls:sys_enter": SysEnter(body, tid, ns, line); break;
            case "raw_syscalls:sys_exit": SysExit(body, pid, tid, ns, line); break;
            case "task:task_newtask":
                if (!TryField(body, "pid=", out var child) || !TryField(body, "clone_flags=", out var flags)
                    || !int.TryParse(child, CultureInfo.InvariantCulture, out int c) || !ulong.TryParse(flags, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong f))
                { Bad(line); break; }
                Emit(new TraceEvent { Kind = TraceEventKind.Task, Time = ns, Pid = pid, Tid = tid, Arg2 = (ulong)c, Arg3 = f });
                break;
            case "sched:sched_process_exec":
                // "filename=PATH pid=N old_pid=M": the path may hold spaces
                int pidAt = body.LastIndexOf(" pid=");
                if (!body.StartsWith("filename=") || pidAt < 0 || !TryField(body, "old_pid=", out var old) || !int.TryParse(old, CultureInfo.InvariantCulture, out int oldTid))
                { Bad(line); break; }
                var file = body["filename=".Length..pidAt];
                var (start, held) = _execHeld.Remove(pid, out var x) ? x : (ns, []);
                Emit(new TraceEvent { Kind = TraceEventKind.Exec, Time = start, Pid = pid, Tid = tid, Arg2 = (ulong)oldTid, Path = file.ToString() });
                foreach (var e in held) Emit(e);
                break;
            case "sched:sched_process_exit":
                if (!TryField(body, "group_dead=", out var gd)) { Bad(line); break; }
                Emit(new TraceEvent { Kind = TraceEventKind.Exit, Time = ns, Pid = pid, Tid = tid, Arg2 = gd is "true" or "1" ? 1UL : 0 });
                break;
            default: Bad(line); break;
        }
    }

    /// <summary>A program's name as the kernel's comm keeps it (15 bytes), which is what perf reports at exec.</summary>
    static string Comm(string name) => name.Length > 15 ? name[..15] : name;

    /// <summary>End of input: an exec never named, or calls still in flight, are reported.</summary>
    public void Finish()
    {
        foreach (var (pid, (start, held)) in _execHeld.OrderBy(p => p.Key).ToList())
        {
            _execHeld.Remove(pid);
            emit(new TraceEvent { Kind = TraceEventKind.Exec, Time = start, Pid = pid, Tid = pid, Arg2 = (ulong)pid, Path = "?" });
            foreach (var e in held) emit(e);
        }
    }

    void Emit(in TraceEvent e)
    {
        if (e.Kind != TraceEventKind.Exec && _execHeld.TryGetValue(e.Pid, out var x)) { x.Held.Add(e); return; }
        emit(e);
    }

    void Bad(string line)
    {
        Unparsed++;
        FirstUnparsed ??= line;
    }

    // " 2168/2168  16507.628285378: rest"
    static bool TryHead(ref ReadOnlySpan<char> s, out int pid, out int tid, out long ns)
    {
        pid = tid = 0; ns = 0;
        int slash = s.IndexOf('/'), space = s.IndexOf(' ');
        if (slash <= 0 || space < slash) return false;
        if (!int.TryParse(s[..slash], CultureInfo.InvariantCulture, out pid) || !int.TryParse(s[(slash + 1)..space], CultureInfo.InvariantCulture, out tid)) return false;
        s = s[space..].TrimStart();
        int colon = s.IndexOf(':'), dot = s.IndexOf('.');
        if (colon < 0 || dot < 0 || dot > colon || colon - dot != 10) return false;
        if (!long.TryParse(s[..dot], CultureInfo.InvariantCulture, out long sec) || !long.TryParse(s[(dot + 1)..colon], CultureInfo.InvariantCulture, out long frac)) return false;
        ns = sec * 1_000_000_000 + frac;
        s = s[(colon + 1)..];
        return true;
    }

    // "address=0x7f10851d7b70 ip=0x7f10851d7b70 error_code=0x14"
    void Fault(ReadOnlySpan<char> body, int pid, int tid, long ns, bool kernel, string line)
    {
        if (!TryField(body, "address=", out var a) || !TryField(body, "error_code=", out var ec) || !TryHex(a, out ulong addr) || !TryHex(ec, out ulong err))
        { Bad(line); return; }
        if (addr >= UserLimit) return;
        var f = ((err & 2) != 0 ? FaultFlags.Write : 0) | ((err & 0x10) != 0 ? FaultFlags.Exec : 0) | ((err & 1) != 0 ? FaultFlags.Present : 0)
            | (kernel ? FaultFlags.Kernel : 0);
        Emit(TraceEvent.Fault(ns, pid, tid, addr, f));
    }

    // "NR 9 (0, 2000, 3, 22, ffffffff, 0)"
    void SysEnter(ReadOnlySpan<char> body, int tid, long ns, string line)
    {
        int open = body.IndexOf('('), close = body.LastIndexOf(')');
        if (!body.StartsWith("NR ") || open < 0 || close < open || !int.TryParse(body[3..open].Trim(), CultureInfo.InvariantCulture, out int nr)) { Bad(line); return; }
        var p = new Pending { Nr = nr, EnterNs = ns };
        int i = 0;
        foreach (var r in body[(open + 1)..close].Split(','))
        {
            if (i == 6 || !ulong.TryParse(body[(open + 1)..close][r].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out p.Args[i])) { Bad(line); return; }
            i++;
        }
        _inFlight[tid] = p;
    }

    // "NR 9 = 139708929355776"
    void SysExit(ReadOnlySpan<char> body, int pid, int tid, long ns, string line)
    {
        int eq = body.IndexOf('=');
        if (!body.StartsWith("NR ") || eq < 0 || !int.TryParse(body[3..eq].Trim(), CultureInfo.InvariantCulture, out int nr)
            || !long.TryParse(body[(eq + 1)..].Trim(), CultureInfo.InvariantCulture, out long ret)) { Bad(line); return; }
        if (!_inFlight.Remove(tid, out var p) || p.Nr != nr) { ExitsWithoutEnter++; return; }
        var a = p.Args;
        var e = new TraceEvent { Time = ns, Pid = pid, Tid = tid, Ret = ret, Dur = ns - p.EnterNs };
        switch (nr)
        {
            case LinuxAbi.Nr.Mmap:
                (e.Kind, e.Addr, e.Len, e.Arg2, e.Arg3, e.Arg4, e.Arg5) = (TraceEventKind.Mmap, a[0], a[1], a[2], a[3], (ulong)(long)(int)a[4], a[5]);
                if (((int)a[3] & LinuxAbi.MapAnonymous) == 0) e.Path = p.Path;
                break;
            case LinuxAbi.Nr.Mprotect: (e.Kind, e.Addr, e.Len, e.Arg2) = (TraceEventKind.Mprotect, a[0], a[1], a[2]); break;
            case LinuxAbi.Nr.PkeyMprotect: (e.Kind, e.Addr, e.Len, e.Arg2, e.Arg3) = (TraceEventKind.Mprotect, a[0], a[1], a[2], (ulong)((int)a[3] + 1)); break;
            case LinuxAbi.Nr.Munmap: (e.Kind, e.Addr, e.Len) = (TraceEventKind.Munmap, a[0], a[1]); break;
            case LinuxAbi.Nr.Brk: (e.Kind, e.Addr) = (TraceEventKind.Brk, a[0]); break;
            case LinuxAbi.Nr.Mremap: (e.Kind, e.Addr, e.Len, e.Arg2, e.Arg3, e.Arg4) = (TraceEventKind.Mremap, a[0], a[1], a[2], a[3], a[4]); break;
            case LinuxAbi.Nr.Madvise: (e.Kind, e.Addr, e.Len, e.Arg2) = (TraceEventKind.Madvise, a[0], a[1], a[2]); break;
            case LinuxAbi.Nr.Prctl:
                if (a[0] is not (LinuxAbi.PrSetThpDisable or LinuxAbi.PrGetThpDisable)) return;   // the filter lets every prctl through
                (e.Kind, e.Arg2, e.Arg3) = (TraceEventKind.Prctl, a[0], a[1]);
                break;
            default: (e.Kind, e.Addr, e.Len, e.Arg2, e.Arg3, e.Arg4, e.Arg5) = (TraceEventKind.Syscall, a[0], a[1], a[2], a[3], a[4], (ulong)nr); break;
        }
        Emit(e);
    }

    // "PERF_RECORD_MMAP2 2168/2168: [0x7f10851b3000(0x2000) @ 0x7f10851b3000 00:00 0 0]: rw-p //anon"
    void Mmap2(ReadOnlySpan<char> s, int pid, int tid, long ns, string line)
    {
        int lb = s.IndexOf('['), paren = s.IndexOf('('), rp = s.IndexOf(')'), at = s.IndexOf(" @ "), rb = s.IndexOf("]: ");
        if (lb < 0 || paren < lb || rp < paren || at < rp || rb < at) { Bad(line); return; }
        var pgoffText = s[(at + 3)..rb];
        int sp = pgoffText.IndexOf(' ');
        if (sp > 0) pgoffText = pgoffText[..sp];
        var tail = s[(rb + 3)..];
        if (!TryHex(s[(lb + 1)..paren], out ulong addr) || !TryHex(s[(paren + 1)..rp], out ulong len) || !TryHex(pgoffText, out ulong pgoff) || tail.Length < 4)
        { Bad(line); return; }
        var protText = tail[..4];
        string path = tail.Length > 5 ? tail[5..].ToString() : "";
        if (path.StartsWith('/') && path != "//anon" && _filesSeen.Add(path) && fileSize?.Invoke(path) is long size)
            Emit(new TraceEvent { Kind = TraceEventKind.File, Time = ns, Pid = pid, Tid = tid, Len = (ulong)size, Path = path });
        // perf reports a VMA made or changed by a traced call while the call runs; its path is the call's
        if (_inFlight.TryGetValue(tid, out var p)) { p.Path ??= path; return; }
        int prot = (protText[0] == 'r' ? LinuxAbi.ProtRead : 0) | (protText[1] == 'w' ? LinuxAbi.ProtWrite : 0) | (protText[2] == 'x' ? LinuxAbi.ProtExec : 0);
        int flags = protText[3] == 's' ? LinuxAbi.MapShared : LinuxAbi.MapPrivate;
        Emit(new TraceEvent { Kind = TraceEventKind.KernelMap, Time = ns, Pid = pid, Tid = tid, Addr = addr, Len = len, Arg2 = (ulong)prot, Arg3 = (ulong)flags, Arg5 = pgoff, Path = path });
    }

    /// <summary>The value after " key" (or key at the start), up to the next space.</summary>
    static bool TryField(ReadOnlySpan<char> body, string key, out ReadOnlySpan<char> value)
    {
        value = default;
        int i = body.StartsWith(key) ? 0 : body.IndexOf(" " + key) is int j and >= 0 ? j + 1 : -1;
        if (i < 0) return false;
        value = body[(i + key.Length)..];
        int end = value.IndexOf(' ');
        if (end >= 0) value = value[..end];
        return true;
    }

    static bool TryHex(ReadOnlySpan<char> s, out ulong v)
    {
        if (s.StartsWith("0x")) s = s[2..];
        return ulong.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v);
    }

    static ReadOnlySpan<char> Word(ReadOnlySpan<char> s, int n)
    {
        foreach (var r in s.Split(' '))
        {
            if (s[r].IsEmpty) continue;
            if (n-- == 0) return s[r];
        }
        return default;
    }
}
