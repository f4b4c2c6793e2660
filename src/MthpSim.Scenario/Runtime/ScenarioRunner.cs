using System.Globalization;
using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Swap;
using MthpSim.Core.Debug;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;
using MthpSim.Scenario.Reference;
using MthpSim.Scenario.Syntax;
using CoreProt = MthpSim.Core.Prot;

namespace MthpSim.Scenario.Runtime;

/// <summary>
/// Runs a scenario: parse, validate against the model, then execute statement by statement,
/// evaluating every <c>expect</c> and (optionally) checking invariants after each statement.
/// </summary>
public static partial class ScenarioRunner
{
    public static RunResult RunFile(string path, RunOptions options)
    {
        if (SourceText.Decode(path, File.ReadAllBytes(path), out var error) is string text)
            return RunText(path, text, options);
        var invalid = new RunResult { File = path };
        invalid.Invalid.Add(error!);
        return invalid;
    }

    public static RunResult RunText(string fileName, string text, RunOptions options)
    {
        var result = new RunResult { File = fileName };
        var prepared = Prepare(fileName, text, result, options.Policy, options.Machine, options.HeldSysfs);
        if (prepared == null) return result;
        var (session, statements) = prepared.Value;
        var checker = options.CheckInvariants ? new InvariantChecker() : null;
        var reference = options.CheckInvariants ? new ContentReference() : null;
        int dmesgShown = 0;
        result.Statements = statements.Count;
        foreach (var stmt in statements)
        {
            // A signal stops the run between statements, so what ran is a consistent prefix.
            if (options.Cancel.IsCancellationRequested) { result.Interrupted = true; break; }
            try
            {
                reference?.Before(session, stmt);
                Execute(session, stmt, result, options);
                // What the kernel logged is shown, never swallowed.
                for (; dmesgShown < session.Kernel.Dmesg.Count; dmesgShown++)
                    options.Output?.WriteLine($"{stmt.Span.File}:{stmt.Span.Line}: kernel: {session.Kernel.Dmesg[dmesgShown]}");
            }
            catch (ScenarioRuntimeException e)
            {
                result.Aborted = e.ToString();
                break;
            }
            if (checker != null && CheckInvariants(checker, session.Kernel, stmt) is string violation)
            {
                result.Aborted = violation;
                break;
            }
            if (reference?.After(session, stmt) is string differs)
            {
                result.Aborted = ContentDiffers(stmt, differs);
                break;
            }
            result.StatementsRun++;
            options.AfterStatement?.Invoke(session.Kernel, stmt);
            options.StatementDone?.Invoke(result.StatementsRun, statements.Count);
        }
        CollectCounters(session.Kernel, result);
        result.CollapseMetrics = session.Kernel.CollapseMetrics;
        result.CollapseCost = session.Kernel.CollapseCost;
        result.MappedBytesByOrder = session.Kernel.MappedBytesByOrder();
        result.TlbEntries = session.Kernel.Processes.Sum(mm => session.Kernel.TlbEntriesOf(mm).Total);
        result.PageSizeKb = session.Kernel.Geo.PageSize >> 10;
        result.PolicyName = session.Kernel.CollapsePolicy.Name;
        result.Seed = session.Kernel.Config.Seed;
        return result;
    }

    /// <summary>
    /// Parses and validates a scenario and builds its machine. Returns null (with the errors in
    /// <paramref name="result"/>) when the file is invalid.
    /// </summary>
    /// <param name="machine">Machine options that win over the scenario's own (<see cref="RunOptions.Machine"/>).</param>
    /// <param name="held">Settings written before the first statement (<see cref="RunOptions.HeldSysfs"/>).</param>
    public static (ScenarioSession Session, IReadOnlyList<Statement> Statements)? Prepare(string fileName, string text, RunResult result, string? policy = null,
        MachineStmt? machine = null, IReadOnlyList<KeyValuePair<string, string>>? held = null)
    {
        var parsed = ScenarioParser.Parse(fileName, text);
        if (!parsed.Success)
        {
            result.Invalid.AddRange(parsed.Errors);
            return null;
        }
        Kernel kernel;
        try
        {
            kernel = new Kernel(MachineFrom(Merge(parsed.Statements.OfType<MachineStmt>().FirstOrDefault(), machine)));
        }
        catch (ArgumentException e)
        {
            var span = parsed.Statements.OfType<MachineStmt>().FirstOrDefault()?.Span ?? machine!.Span;
            result.Invalid.Add(new Diagnostic(span.File, span.Line, span.Column, e.Message));
            return null;
        }
        // A design's own observables (per-order collapse_* stats) exist once it is selected.
        if (policy != null)
        {
            if (parsed.Statements.OfType<PolicyStmt>().FirstOrDefault() is { } own)
            {
                result.Invalid.Add(new Diagnostic(own.Span.File, own.Span.Line, own.Span.Column, $"the scenario chooses a collapse policy itself, and this run is to use '{policy}' (compare and sweep set it for the whole run)"));
                return null;
            }
            kernel.CollapsePolicy = MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Create(policy)
                ?? throw new ArgumentException($"unknown collapse policy '{policy}' (known: {string.Join(", ", MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Names)})");
        }
        else if (parsed.Statements.OfType<PolicyStmt>().FirstOrDefault() is { } firstPolicy
            && MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Create(firstPolicy.Value) is { } p)
        {
            kernel.CollapsePolicy = p;
        }
        foreach (var (path, value) in held ?? [])
            if (kernel.SysfsWrite(path, value) is long rc and not 0)
                result.Invalid.Add(new Diagnostic(fileName, 0, 0, $"the held setting {path} = {value} was refused by the kernel ({Errno.Name(rc)})"));
        result.Invalid.AddRange(ScenarioValidator.Validate(kernel, parsed.Statements));
        if (result.Invalid.Count > 0) return null;
        return (new ScenarioSession(kernel), parsed.Statements);
    }

    /// <summary>The invariant checker's verdict after a statement, or null when the machine is consistent.</summary>
    public static string? CheckInvariants(InvariantChecker checker, Kernel kernel, Statement stmt)
    {
        var violations = checker.Run(kernel);
        return violations.Count == 0 ? null
            : $"{stmt.Span.File}:{stmt.Span.Line}: invariant violated after '{stmt.Text}':\n    " + string.Join("\n    ", violations.Take(20));
    }

    /// <summary>How a difference from the harness's own record of page contents is reported.</summary>
    public static string ContentDiffers(Statement stmt, string what) =>
        $"{stmt.Span.File}:{stmt.Span.Line}: content differs after '{stmt.Text}':\n    {what}";

    /// <summary>The value a sweep holds for this sysfs path, or null.</summary>
    static string? HeldValue(RunOptions options, string path)
    {
        foreach (var (p, v) in options.HeldSysfs) if (p == path) return v;
        return null;
    }

    /// <summary>The scenario's machine statement with every option <paramref name="over"/> gives replaced.</summary>
    static MachineStmt? Merge(MachineStmt? own, MachineStmt? over) =>
        over == null ? own
        : own == null ? over
        : own with
        {
            Memory = over.Memory ?? own.Memory, PageSize = over.PageSize ?? own.PageSize, Arch = over.Arch ?? own.Arch,
            Swap = over.Swap ?? own.Swap, Seed = over.Seed ?? own.Seed, SwapDev = over.SwapDev ?? own.SwapDev, Rmw = over.Rmw ?? own.Rmw,
        };

    /// <summary>The machine of the scenario; a non-4K page without an arch means arm64 (x86_64 has only 4K pages).</summary>
    public static MachineConfig MachineFrom(MachineStmt? m)
    {
        var d = MachineConfig.Default;
        if (m == null) return d;
        int page = (int)(m.PageSize ?? d.PageSize);
        var arch = m.Arch switch
        {
            "arm64" => CpuArch.Arm64,
            "x86_64" => CpuArch.X86_64,
            _ => page == 4096 ? CpuArch.X86_64 : CpuArch.Arm64,
        };
        var swapDev = m.SwapDev switch { "disk" => SwapDeviceKind.Disk, "file" => SwapDeviceKind.File, _ => SwapDeviceKind.Zram };
        var rmw = m.Rmw == "write" ? RmwFaults.Write : RmwFaults.ReadThenWrite;
        return new MachineConfig(m.Memory ?? d.MemoryBytes, page, arch, m.Swap ?? d.SwapBytes, m.Seed ?? d.Seed) { SwapDevice = swapDev, Rmw = rmw };
    }

    static CoreProt ToProt(Syntax.Prot p) => p switch
    {
        Syntax.Prot.None => CoreProt.None,
        Syntax.Prot.Read => CoreProt.Read,
        _ => CoreProt.Read | CoreProt.Write,
    };

    /// <summary>Carries out one statement in the simulator; what the model cannot do yet stops the run with a clear error.</summary>
    public static void Execute(ScenarioSession s, Statement stmt, RunResult result, RunOptions options)
    {
        try
        {
            // A process that is gone (exited, or killed by the OOM killer) does nothing: -ESRCH.
            if (ProcessOf(stmt) is string p && s.Process(p).Exited)
            {
                if (stmt is ForkStmt f) s.AddProcess(f.Child, ScenarioSession.Gone(f.Child));
                s.Rc = -Errno.ESRCH;
                return;
            }
            ExecuteStatement(s, stmt, result, options);
            // An OOM kill ends its victim; the statement of a process killed while it ran returns -ESRCH.
            foreach (var mm in s.Kernel.Processes.Where(m => m.OomKilled).ToList()) s.Kernel.ReapOomVictim(mm);
            if (ProcessOf(stmt) is string q && s.Process(q) is { OomKilled: true }) s.Rc = -Errno.ESRCH;
        }
        catch (NotSupportedException e)
        {
            throw new ScenarioRuntimeException(stmt.Span, e.Message);
        }
    }

    /// <summary>The process a statement acts on, if it acts on one.</summary>
    public static string? ProcessOf(Statement stmt) => stmt switch
    {
        MmapStmt m => m.Process, MunmapStmt u => u.Process, MprotectStmt mp => mp.Process, MadviseStmt ma => ma.Process,
        AccessStmt ac => ac.Process, PrctlStmt pr => pr.Process, ForkStmt f => f.Process, PinStmt pin => pin.Process,
        MremapStmt mr => mr.Process, ExitStmt ex => ex.Process, CgroupAttachStmt ca => ca.Process, UffdStmt uf => uf.Process,
        _ => null,
    };

    static void ExecuteStatement(ScenarioSession s, Statement stmt, RunResult result, RunOptions options)
    {
        var k = s.Kernel;
        switch (stmt)
        {
            case MachineStmt:
                break;
            case SysfsWriteStmt w:
                if (HeldValue(options, w.Path) is string heldValue)
                {
                    result.Overridden.Add(new OverriddenWrite(w.Span.Line, w.Path, w.Value, heldValue));
                    s.Rc = k.SysfsWrite(w.Path, heldValue);
                }
                else s.Rc = k.SysfsWrite(w.Path, w.Value);
                break;
            case MemfdStmt mf:
                s.BindFile(mf.File, k.MemfdCreate(mf.File, mf.Size));
                s.Rc = 0;
                break;
            case TmpfsStmt t:
            {
                s.Rc = k.TmpfsMount(t.Huge, t.Size, out var mount);
                s.BindMount(t.Mount, mount);
                break;
            }
            case FileStmt fs:
            {
                // A mount that failed left a plain directory: the file would not be shmem; nothing is created.
                var mount = s.Mount(fs.Mount);
                s.BindFile(fs.File, mount != null ? k.CreateFile(fs.File, mount, fs.Size) : null);
                s.Rc = mount != null ? 0 : -Errno.ENOENT;
                break;
            }
            case FtruncateStmt ft:
                s.Rc = k.Ftruncate(s.File(ft.File, ft.Span), ft.Size);
                break;
            case FallocateStmt fa:
                s.Rc = k.Fallocate(s.File(fa.File, fa.Span), fa.Punch, fa.Offset, fa.Length);
                break;
            case LseekStmt ls:
                s.Rc = k.Lseek(s.File(ls.File, ls.Span), ls.Data, ls.Offset);
                break;
            case FileIoStmt io:
                s.Rc = io.Write ? k.Pwrite(s.File(io.File, io.Span), io.Offset, io.Length) : k.Pread(s.File(io.File, io.Span), io.Offset, io.Length);
                break;
            case ProcessStmt p:
                s.AddProcess(p.Name, k.CreateProcess(p.Name));
                break;
            case MmapStmt m:
            {
                if (s.Binding(m.Process, m.Region) is { Holds: true } held)
                    throw new ScenarioRuntimeException(m.Span, $"region '{m.Region}' of process '{m.Process}' still names the mapping of line {held.Line}; "
                        + "munmap all of it first or use another name (a new mmap would leave it unreachable)");
                ulong? addr = m.Addr is long a ? (ulong)a : null;
                long rc = m.Shared || m.File != null
                    ? k.MmapShmem(s.Process(m.Process), addr, (ulong)m.Length, ToProt(m.Prot), m.File != null ? s.File(m.File, m.Span) : null, m.FileOffset, m.Shared)
                    : k.Mmap(s.Process(m.Process), addr, (ulong)m.Length, ToProt(m.Prot));
                s.Rc = rc;
                s.BindRegion(m.Process, m.Region, new RegionBinding(rc >= 0 ? (ulong)rc : 0, (ulong)m.Length, rc, m.Span.Line));
                break;
            }
            case MunmapStmt u:
            {
                var r = s.Region(u.Process, u.Region, u.Span);
                ulong start = r.Start + (ulong)(u.Offset ?? 0), len = u.Length is long l ? (ulong)l : r.Length;
                s.Rc = k.Munmap(s.Process(u.Process), start, len);
                // All of the region gone frees its name for a new mmap.
                if (s.Rc == 0 && start <= r.Start && start + len >= r.Start + r.Length) s.BindRegion(u.Process, u.Region, r with { Unmapped = true });
                break;
            }
            case MprotectStmt mp:
                s.Rc = k.Mprotect(s.Process(mp.Process), s.Address(mp.Process, mp.Region, mp.Offset, mp.Span), (ulong)mp.Length, ToProt(mp.Prot));
                break;
            case MadviseStmt ma:
                s.Rc = k.Madvise(s.Process(ma.Process), s.Address(ma.Process, ma.Region, ma.Offset, ma.Span), (ulong)ma.Length,
                    (MadviseAdvice)(int)ma.Advice);
                break;
            case AccessStmt ac:
                s.Rc = Access(s, ac);
                break;
            case PrctlStmt pr:
                s.Rc = k.PrctlThpDisable(s.Process(pr.Process), pr.Value);
                break;
            case ForkStmt f:
            {
                var child = k.Fork(s.Process(f.Process), f.Child);
                if (child == null)
                {
                    s.Rc = -Errno.ENOMEM;
                    s.AddProcess(f.Child, ScenarioSession.Gone(f.Child));   // its name stays usable: -ESRCH
                    break;
                }
                s.AddProcess(f.Child, child);
                s.InheritRegions(f.Process, f.Child);
                s.Rc = 0;
                break;
            }
            case PinStmt pin:
            {
                ulong start = s.Address(pin.Process, pin.Region, pin.Offset, pin.Span);
                var mm = s.Process(pin.Process);
                s.Rc = pin.IsPin ? k.Pin(mm, start, start + (ulong)pin.Length) : k.Unpin(mm, start, start + (ulong)pin.Length);
                break;
            }
            case UffdStmt uf:
                s.Rc = Uffd(s, uf);
                break;
            case MremapStmt mr:
            {
                var r = s.Region(mr.Process, mr.Region, mr.Span);
                long rc = k.Mremap(s.Process(mr.Process), r.Start, r.Length, (ulong)mr.NewLength, mr.NewAddr is long a ? (ulong)a : null);
                s.Rc = rc;
                if (rc >= 0) s.BindRegion(mr.Process, mr.Region, new RegionBinding((ulong)rc, (ulong)mr.NewLength, rc, r.Line));
                break;
            }
            case ExitStmt ex:
                k.Exit(s.Process(ex.Process));
                break;
            case CgroupStmt cg:
                if (!cg.Exists) { s.BindCgroup(cg.Cgroup, k.CreateCgroup(cg.Cgroup, cg.Limit)); s.Rc = 0; }
                else s.Rc = k.SetCgroupLimit(s.Cgroup(cg.Cgroup), cg.Limit ?? long.MaxValue);
                break;
            case CgroupAttachStmt ca:
                s.Rc = k.AttachCgroup(s.Process(ca.Process), s.Cgroup(ca.Cgroup));
                break;
            case CgroupReclaimStmt cr:
                s.Rc = k.CgroupReclaim(s.Cgroup(cr.Cgroup), cr.Size);
                break;
            case KhugepagedScanStmt ks:
                k.KhugepagedScanRounds(ks.Rounds ?? 1);
                s.Rc = 0;
                break;
            case KhugepagedFullScansStmt kf:
                s.Rc = k.KhugepagedFullScansRounds(kf.Count);
                break;
            case PolicyStmt pol:
                k.CollapsePolicy = MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Create(pol.Value)!;
                break;
            case ReclaimStmt:
                k.Reclaim();
                s.Rc = 0;
                break;
            case AgeStmt a:
                s.Rc = k.Age(a.Kind, (a.Size + k.Geo.PageSize - 1) / k.Geo.PageSize, a.Scattered);
                break;
            case AgeSnapshotStmt snap:
                s.Rc = k.AgeFromSnapshot(snap.Snapshot, out var why);
                if (why != null) throw new ScenarioRuntimeException(snap.Span, $"cannot rebuild {System.IO.Path.GetFileName(snap.Path)}: {why}");
                break;
            case CompactStmt:
                k.CompactMemory();
                s.Rc = 0;
                break;
            case SysctlWriteStmt sc:
                s.Rc = k.SysctlWrite(sc.Name, sc.Value);
                break;
            case SleepStmt sl:
                k.Sleep(sl.Milliseconds);
                break;
            case ExpectStmt e:
                result.Expectations.Add(Expect(s, e));
                break;
            case ReplayStmt rp:
                Replay(s, rp, result, options);
                break;
            case PrintStmt p:
                if (options.Output == null && !options.KeepPrints) break;
                string printed = ScenarioPrinter.Print(s, p);
                options.Output?.Write(printed);
                if (options.KeepPrints) result.Prints.Add(new PrintOutput(p.Span.Line, printed));
                break;
            default:
                throw new ScenarioRuntimeException(stmt.Span, $"'{stmt.Text}' is not supported yet");
        }
    }

    /// <summary>read/write/rmw: every base page of [OFF, OFF+LEN), or with step=S the E bytes at each step.</summary>
    static long Access(ScenarioSession s, AccessStmt ac)
    {
        var mm = s.Process(ac.Process);
        // A program that stores through what a failed mmap returned (MAP_FAILED) gets SIGSEGV.
        if (s.Binding(ac.Process, ac.Region) is { Mapped: false }) return -Errno.EFAULT;
        ulong baseAddr = s.Address(ac.Process, ac.Region, 0, ac.Span);
        ulong off = (ulong)ac.Offset, end = off + (ulong)ac.Length;
        long Touch(ulong from, ulong to) => ac.IsRmw ? s.Kernel.AtomicRmw(mm, from, to) : s.Kernel.Access(mm, from, to, ac.IsWrite);
        if (ac.Step is not long step) return Touch(baseAddr + off, baseAddr + end);
        ulong each = (ulong)(ac.Each ?? 1);
        for (ulong a = off; a < end; a += (ulong)step)
        {
            long rc = Touch(baseAddr + a, baseAddr + a + each);
            if (rc != 0) return rc;
        }
        return 0;
    }

    /// <summary>uffd OP: the ioctl on the process's userfaultfd (opened with its handler thread on first use).</summary>
    static long Uffd(ScenarioSession s, UffdStmt uf)
    {
        var k = s.Kernel;
        var mm = s.Process(uf.Process);
        var handler = s.UffdHandler(uf.Process);
        ulong start = s.Address(uf.Process, uf.Region, uf.Offset, uf.Span), len = (ulong)uf.Length;
        switch (uf.Op)
        {
            case UffdOp.Register:
            {
                var modes = ((uf.Modes & UffdModes.Missing) != 0 ? VmFlags.UffdMissing : 0)
                    | ((uf.Modes & UffdModes.Wp) != 0 ? VmFlags.UffdWp : 0)
                    | ((uf.Modes & UffdModes.Minor) != 0 ? VmFlags.UffdMinor : 0);
                long rc = k.UffdRegister(mm, start, len, modes);
                if (rc == 0) handler.Registered(start, start + len, uf.Handler);
                return rc;
            }
            case UffdOp.Unregister: return k.UffdUnregister(mm, start, len);
            case UffdOp.Copy: return k.UffdCopy(mm, start, len);
            case UffdOp.Zeropage: return k.UffdZeropage(mm, start, len);
            case UffdOp.Continue: return k.UffdContinue(mm, start, len);
            default: return k.UffdWriteProtect(mm, start, len, uf.Protect);
        }
    }

    static ExpectationResult Expect(ScenarioSession s, ExpectStmt e) => Compare(e, ObservableEvaluator.Evaluate(s, e.Lhs));

    /// <summary>Compares an observed value with an expect's right-hand side (also used for live values).</summary>
    public static ExpectationResult Compare(ExpectStmt e, ObservedValue observed)
    {
        string op = e.Op switch
        {
            CompareOp.Eq => "==", CompareOp.Ne => "!=", CompareOp.Lt => "<",
            CompareOp.Le => "<=", CompareOp.Gt => ">", _ => ">=",
        };
        bool kb = ObservableEvaluator.IsKbValued(e.Lhs);
        bool passed;
        string expected;
        if (e.Rhs is WordOperand w)
        {
            expected = w.Word;
            bool eq = observed.Word == w.Word;
            passed = e.Op == CompareOp.Eq ? eq : !eq;
        }
        else
        {
            var n = (NumberOperand)e.Rhs;
            long rhs = n.HasSizeSuffix && kb ? n.Value / 1024 : n.Value;
            expected = rhs.ToString(CultureInfo.InvariantCulture) + (kb ? " kB" : "");
            long v = observed.Number;
            passed = !observed.IsWord && e.Op switch
            {
                CompareOp.Eq => v == rhs, CompareOp.Ne => v != rhs, CompareOp.Lt => v < rhs,
                CompareOp.Le => v <= rhs, CompareOp.Gt => v > rhs, _ => v >= rhs,
            };
        }
        string shown = observed.ToString() + (!observed.IsWord && kb ? " kB" : "");
        if (e.Lhs is RcObs && !observed.IsWord && observed.Number < 0) shown += $" (-{Errno.Name(observed.Number).TrimStart('-')})";
        return new ExpectationResult(e.Span, e.Text, e.Lhs.ToString()!, op, expected, shown, passed);
    }

    public static void CollectCounters(Kernel k, RunResult result)
    {
        foreach (var name in k.VmstatNames()) result.Counters[$"vmstat/{name}"] = k.Vmstat(name)!.Value;
        foreach (var path in k.SysfsFiles())
            if (path.Contains("/stats/") || path.StartsWith("khugepaged/pages_collapsed") || path.StartsWith("khugepaged/full_scans"))
                result.Counters[$"sysfs/{path}"] = long.Parse(k.SysfsRead(path)!, CultureInfo.InvariantCulture);
    }
}
