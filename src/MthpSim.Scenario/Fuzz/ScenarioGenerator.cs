using MthpSim.Core;
using MthpSim.Core.Vma;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Scenario.Fuzz;

/// <summary>
/// Generates random statements, one at a time, reacting to what the previous ones did. Offsets and
/// lengths are drawn inside what a region has mapped now (so most operations land and reach deep
/// paths), with a fixed share of deliberate misses and edge cases: page-unaligned, across VMA
/// boundaries, past the end. Each statement is its source line, so a failing run is a scenario file.
/// </summary>
public sealed class ScenarioGenerator
{
    readonly SplitMix64 _rng;
    readonly GeneratorProfile _profile;
    readonly List<string> _procs = new();
    readonly Dictionary<string, List<string>> _regions = new();
    readonly List<(string Proc, string Region, long Off, long Len)> _pins = new();
    readonly List<string> _lines = new();
    /// <summary>Files that exist (memfds and tmpfs files), tmpfs mounts that mounted, and the regions that map shared memory.</summary>
    readonly List<string> _files = new(), _mounts = new();
    readonly HashSet<(string Proc, string Region)> _shared = new();
    int _nextProc, _nextRegion, _nextFile, _nextMount;
    const int MaxProcs = 5;
    const int MaxRegionsPerProc = 6;
    /// <summary>Percent of operations aimed off target on purpose (error paths stay covered).</summary>
    const int MissPercent = 8;
    /// <summary>The machine's base page and PMD size: lengths and offsets are drawn in those units (on 4K pages: 4K and 2M).</summary>
    readonly long Page, Pmd;

    /// <summary>The anonymous mTHP sizes (orders 2 to the PMD order) and the shmem ones (from order 1), as sysfs names them.</summary>
    readonly string[] Sizes, ShmemSizes;
    static readonly string[] PerSize = ["always", "always", "inherit", "madvise", "never"];
    static readonly string[] Global = ["always", "madvise", "never"];
    /// <summary>Region lengths: 2 to 256 pages, then 1, 1.5, 2 and 3 PMDs (on 4K pages 8K to 6M).</summary>
    readonly long[] Lengths;
    /// <summary>Access lengths: 1 to 256 pages, and a PMD.</summary>
    readonly long[] AccessLengths;
    static readonly string[] ShmemPerSize = ["always", "always", "inherit", "within_size", "advise", "never"];
    static readonly string[] ShmemGlobal = ["always", "always", "within_size", "advise", "never", "deny", "force"];
    static readonly string[] TmpfsHuge = ["never", "always", "always", "within_size", "within_size", "advise"];
    /// <summary>File lengths: 1 to 256 pages, a PMD and one and a half.</summary>
    readonly long[] FileLengths;

    public ScenarioGenerator(ulong seed, GeneratorProfile? profile = null)
    {
        _rng = new SplitMix64(seed);
        _profile = profile ?? GeneratorProfile.Simulator;
        var geo = new MthpSim.Core.Arch.Geometry(_profile.PageSize, _profile.PageSize == 4096 ? MthpSim.Core.Arch.CpuArch.X86_64 : MthpSim.Core.Arch.CpuArch.Arm64);
        Page = geo.PageSize;
        Pmd = geo.PmdSize;
        Sizes = [.. Enumerable.Range(2, geo.PmdOrder - 1).Select(o => $"{geo.SizeOfOrderKb(o)}kB")];
        ShmemSizes = [.. Enumerable.Range(1, geo.PmdOrder).Select(o => $"{geo.SizeOfOrderKb(o)}kB")];
        Lengths = [2 * Page, 4 * Page, 16 * Page, 50 * Page, 128 * Page, 256 * Page, Pmd, Pmd + Pmd / 2, 2 * Pmd, 3 * Pmd];
        AccessLengths = [Page, 4 * Page, 16 * Page, 64 * Page, 256 * Page, Pmd];
        FileLengths = [Page, 2 * Page, 3 * Page, 4 * Page, 16 * Page, 64 * Page, 256 * Page, Pmd, Pmd + Pmd / 2];
    }

    /// <summary>Every line generated so far, the prologue's included.</summary>
    public IReadOnlyList<string> Lines => _lines;

    /// <summary>The machine and the first process, as text.</summary>
    public IEnumerable<string> Prologue()
    {
        // zram half the time, else a disk or a swap file (asynchronous: pageout leaves folios in the swap cache)
        _lines.Add(_profile.AnySwapDevice ? _profile.Machine + " swapdev=" + _rng.Pick(new[] { "zram", "zram", "disk", "file" }) : _profile.Machine);
        // Some sizes start enabled, so large folios of several orders exist from the first fault.
        foreach (var size in AnonSizes.Take(AnonSizes.Length - 1))
            if (_rng.Chance(25)) _lines.Add($"sysfs hugepages-{size}/enabled = always");
        _lines.Add("process p0");
        if (_profile.Cgroups && _rng.Chance(_profile.CgroupPercent))
        {
            // cg0 with a limit that a few regions exceed, cg1 without one
            _lines.Add($"cgroup cg0 limit={_rng.Pick(CgroupLimits)}");
            _lines.Add("cgroup cg1");
            _lines.Add("p0 cgroup cg0");
            _cgroups.AddRange(["cg0", "cg1"]);
        }
        return _lines.ToList();
    }

    /// <summary>
    /// Limits for cg0. Live, none below 2M and none a multiple of 64K: kernel objects the model does
    /// not charge (a page for the first mappings, pipe buffers) would decide a charge that lands
    /// exactly on the limit (a 2M THP in a 2M group).
    /// </summary>
    string[] CgroupLimits => _profile.SmallAnonSizes ? ["1M", "2M", "3M", "4M", "8M", "16M", "max"] : ["2100K", "3300K", "4500K", "8300K", "16500K", "max"];

    /// <summary>The anonymous sizes the profile may enable.</summary>
    string[] AnonSizes => _profile.SmallAnonSizes ? Sizes : Sizes[2..];

    /// <summary>Every process the scenario created, in order (those the OOM killer took included).</summary>
    public IReadOnlyList<string> AllProcesses => _allProcs;
    /// <summary>The processes that have neither exited nor been killed.</summary>
    public IReadOnlyList<string> LiveProcesses => _procs;
    readonly List<string> _allProcs = ["p0"];
    readonly List<string> _cgroups = new();

    /// <summary>A cgroup statement: move a process, change cg0's limit, or reclaim in a group.</summary>
    string Cgroup(string p) => _rng.Below(3) switch
    {
        0 => $"{p} cgroup {_rng.Pick(_cgroups)}",
        1 => $"cgroup cg0 limit={_rng.Pick(CgroupLimits)}",
        _ => $"cgroup {_rng.Pick(_cgroups)} reclaim",
    };

    /// <summary>A new process when the OOM killer took every one (it joins cg1, which has no limit).</summary>
    string NewProcess()
    {
        string c = $"p{_nextProc++}";
        _pendingNewProcess = c;
        return $"process {c}";
    }

    string? _pendingNewProcess;

    public void OnPrologueRun()
    {
        _procs.Add("p0");
        _regions["p0"] = new();
        _nextProc = 1;
    }

    /// <summary>The next statement's text (the caller parses and runs it, then reports back with <see cref="Observe"/>).</summary>
    public string Next(ScenarioSession session)
    {
        string line = Generate(session);
        _lines.Add(line);
        return line;
    }

    string Generate(ScenarioSession session)
    {
        if (_procs.Count == 0) return NewProcess();
        string p = _rng.Pick(_procs);
        var regions = _regions[p];
        int roll = _rng.Below(100);
        if (roll < 5) return Sysfs();
        if (roll < 13 || regions.Count == 0) return regions.Count < MaxRegionsPerProc ? Mmap(p) : Access(session, p, _rng.Pick(regions));
        string r = _rng.Pick(regions);
        return roll switch
        {
            < 42 => Access(session, p, r),
            < 45 => _profile.Uffd ? Uffd(session, p, r) : Access(session, p, r),
            < 57 => Madvise(session, p, r, regions),
            < 61 => Munmap(session, p, r),
            < 65 => $"{p} mprotect {r} {Range(session, p, r, write: false)} {_rng.Pick(new[] { "r", "rw", "rw", "rw", "none" })}",
            < 70 => Mremap(session, p, r),
            < 75 => !_profile.ForkInCgroups && _cgroups.Count > 0 ? Madvise(session, p, r, regions) : Fork(p),
            < 78 => Exit(p),
            < 84 => Pin(session, p, r),
            < 88 => Unpin(),
            < 91 => _profile.Fragmentation && _rng.Chance(35) ? Fragmentation()
                : _cgroups.Count > 0 && _rng.Chance(60) ? Cgroup(p) : "reclaim",
            < 95 => Khugepaged(),
            _ => _profile.Shmem ? FileOp(session) : Access(session, p, r),
        };
    }

    string Sysfs() => _rng.Below(_profile.Shmem ? 12 : 9) switch
    {
        7 when _profile.Fragmentation && _rng.Chance(50) => _rng.Chance(70) ? $"sysfs defrag = {_rng.Pick(Defrag)}" : $"sysfs khugepaged/defrag = {_rng.Below(2)}",
        9 => $"sysfs shmem_enabled = {_rng.Pick(ShmemGlobal)}",
        10 or 11 => $"sysfs hugepages-{_rng.Pick(ShmemSizes)}/shmem_enabled = {_rng.Pick(ShmemPerSize)}",
        0 => $"sysfs enabled = {_rng.Pick(Global)}",
        1 => $"sysfs use_zero_page = {_rng.Below(2)}",
        2 => $"sysfs khugepaged/max_ptes_none = {_rng.Pick(new[] { 0, 64, 255, 256, 384, 511 })}",
        3 => $"sysfs shrink_underused = {_rng.Below(2)}",
        4 when _profile.CollapsePolicies => $"policy collapse = {_rng.Pick(_rng.Chance(80) ? BuiltInPolicies : AsPostedPolicies)}",
        5 => $"sysfs khugepaged/pages_to_scan = {_rng.Pick(_profile.PagesToScan)}",
        _ => $"sysfs hugepages-{_rng.Pick(AnonSizes)}/enabled = {_rng.Pick(PerSize)}",
    };

    static readonly string[] Defrag = ["always", "defer", "defer+madvise", "madvise", "never"];

    /// <summary>Ageing the machine (kernel and pinned memory, scattered or packed), compaction now, or a proactiveness.</summary>
    string Fragmentation() => _rng.Below(10) switch
    {
        < 4 => $"age {_rng.Pick(new[] { "unmovable", "reclaimable", "pinned", "pagecache" })} {_rng.Pick(new[] { "4K", "64K", "256K", "1M" })} {_rng.Pick(new[] { "scattered", "clustered" })}",
        < 8 => "compact",
        _ => $"sysctl vm.compaction_proactiveness = {_rng.Pick(new[] { 0, 20, 50, 100 })}",
    };

    /// <summary>The shipped designs, and (a fifth of the time) the RFCs as posted.</summary>
    static readonly string[] BuiltInPolicies = [.. MthpSim.Core.Khugepaged.Policies.CollapsePolicies.BuiltIn];
    static readonly string[] AsPostedPolicies = [.. MthpSim.Core.Khugepaged.Policies.CollapsePolicies.AsPosted];

    string Khugepaged() => _profile.KhugepagedScans && _rng.Chance(60)
        ? (_rng.Chance(70) ? $"khugepaged scan {1 + _rng.Below(3)}" : $"sleep {_rng.Pick(new[] { "1s", "10s", "1m" })}")
        : $"khugepaged full-scans {1 + _rng.Below(2)}";

    string Mmap(string p)
    {
        string r = $"r{_nextRegion++}";
        long len = _rng.Pick(Lengths);
        // Fixed addresses in a small window make overlaps (-EEXIST), neighbours and merges likely;
        // a quarter of them are PMD-aligned.
        string addr = _rng.Chance(40) ? "any" : $"0x{0x40000000L + _rng.Below(24) * (512L << 10):x}";
        string prot = _rng.Chance(90) ? "rw" : "r";
        _pendingRegion = (p, r);
        _pendingShared = false;
        if (_profile.Shmem && _rng.Chance(35))
        {
            _pendingShared = true;
            if (_files.Count == 0 || _rng.Chance(35)) return $"{p} mmap {r} {addr} {len} {prot} shared anon";
            // Offsets in the file: from its start, a PMD boundary, 64K, or any page; a PMD-multiple length often.
            long off = _rng.Pick(new long[] { 0, 0, Pmd, 64 << 10, _rng.Below(512) * Page });
            string prefix = _rng.Chance(50) ? "memfd" : "file";
            // A quarter of the file mappings are private: the file's pages until written, then copies.
            string kind = _rng.Chance(25) ? "private" : "shared";
            return $"{p} mmap {r} {addr} {len} {prot} {kind} {prefix}:{_rng.Pick(_files)}{(off > 0 ? $"+{off}" : "")}";
        }
        return $"{p} mmap {r} {addr} {len} {prot}";
    }

    bool _pendingShared;
    string? _pendingFile, _pendingMount;

    /// <summary>A file system call on a file (creating files and mounts first, a few at a time).</summary>
    string FileOp(ScenarioSession s)
    {
        if (_files.Count == 0 || (_files.Count < 4 && _rng.Chance(10))) return NewFile();
        string f = _rng.Pick(_files);
        var file = s.File(f, default);
        long size = file.Size;
        long span = Math.Max(size, Pmd);
        long off = _rng.Below(4) switch
        {
            0 => 0,
            1 => _rng.Below((int)(span / Pmd) + 1) * Pmd,
            _ => _rng.Below((int)Math.Min(span / Page, 4096)) * Page,
        };
        if (_rng.Chance(MissPercent)) off = size + _rng.Below(16) * Page + _rng.Pick(new long[] { 0, 100 });
        else if (_rng.Chance(5)) off += 100;
        long len = _rng.Pick(FileLengths);
        string Lseek() => $"lseek {f} {(_rng.Chance(50) ? "data" : "hole")} {off}";
        // a truncation the live kernel would never return from (the model refuses it) becomes an lseek
        string Truncate(long to) => s.Kernel.FtruncateLivelock(file, to) != null ? Lseek() : $"ftruncate {f} {to}";
        return _rng.Below(10) switch
        {
            < 3 => $"pwrite {f} {off} {len}",
            3 => $"pread {f} {off} {len}",
            4 => Truncate(_rng.Pick(new[] { 0, size / 2 / Page * Page, size + len, off, 4L << 20 })),
            5 or 6 => s.Kernel.PunchLivelock(file, off, len) != null ? Lseek() : $"fallocate {f} punch {off} {len}",
            7 => $"fallocate {f} alloc {off} {len}",
            _ => Lseek(),
        };
    }

    string NewFile()
    {
        string f = $"f{_nextFile++}";
        long size = _rng.Pick(new long[] { 0, 64 << 10, 1 << 20, 2 << 20, 4 << 20, 3 << 20 });
        if (_rng.Chance(50)) { _pendingFile = f; return $"memfd {f} {size}"; }
        if (_mounts.Count == 0 || _rng.Chance(20))
        {
            string m = $"m{_nextMount++}";
            _pendingMount = m;
            // A word the kernel refuses now and then: the mount fails with -EINVAL.
            string huge = _rng.Chance(MissPercent) ? "64K" : _rng.Pick(TmpfsHuge);
            string limit = _rng.Chance(30) ? $" size={_rng.Pick(new[] { "256K", "2M", "8M" })}" : "";
            return $"tmpfs {m} huge={huge}{limit}";
        }
        _pendingFile = f;
        return $"file {f} on {_rng.Pick(_mounts)} {size}";
    }

    (string Proc, string Region)? _pendingRegion;
    string? _pendingFork, _forkParent;

    string Access(ScenarioSession s, string p, string r)
    {
        // A region that nothing writable maps is read (writes there are among the deliberate misses).
        bool write = _rng.Chance(70) && Writable(s, p, r);
        // An atomic read-modify-write now and then: a store that faults as the architecture has it.
        string verb = !write ? "read" : _rng.Chance(10) ? "rmw" : "write";
        string step = _rng.Chance(20) ? $" step={_rng.Pick(new[] { "4K", "64K", "2M" })}" : "";
        if (_rng.Chance(MissPercent))
            return $"{p} {verb} {r} {_rng.Below(2048) * Page + _rng.Pick(new long[] { 0, 0, 100 })} {_rng.Pick(AccessLengths)}{step}";
        var (off, max) = Target(s, p, r, write);
        long len = Math.Min(_rng.Chance(15) ? max : _rng.Pick(AccessLengths), max);
        // Page-unaligned starts and ends are allowed: the access touches every page it overlaps.
        if (_rng.Chance(10) && len > 100) { off += 100; len -= 100; }
        return $"{p} {verb} {r} {off} {len}{step}";
    }

    string Madvise(ScenarioSession s, string p, string r, List<string> regions)
    {
        string advice = _rng.Pick(new[] { "hugepage", "nohugepage", "dontneed", "dontneed", "free", "populate_read", "populate_write", "collapse", "collapse" });
        if (_profile.Shmem && _rng.Chance(5)) advice = "remove";
        // Pageout and cold, of anonymous memory and shmem, inside one VMA.
        if (_profile.Pageout && _rng.Chance(_profile.Swap ? 60 : 10))
        {
            var (off, max) = Target(s, p, r, write: false);
            long len = _rng.Chance(30) ? max : Math.Min(max, Math.Max(Page, _rng.Below((int)Math.Min(max / Page, 1024) + 1) * Page));
            return $"{p} madvise {r} {off} {len} {(_rng.Chance(75) ? "pageout" : "cold")}";
        }
        // MADV_COLLAPSE goes to a region with a whole PMD block, when the process has one.
        if (advice == "collapse" && !_rng.Chance(MissPercent))
            foreach (string c in regions.Prepend(r))
                if (PmdAlignedRange(s, p, c) is (long off, long len))
                    return $"{p} madvise {c} {off} {len} collapse";
        return $"{p} madvise {r} {Range(s, p, r, write: advice == "populate_write")} {advice}";
    }

    string Munmap(ScenarioSession s, string p, string r) =>
        _rng.Chance(25) ? $"{p} munmap {r}" : $"{p} munmap {r} {Range(s, p, r, write: false)}";

    string Mremap(ScenarioSession s, string p, string r)
    {
        long len = (long)RegionLength(s, p, r);
        // Over several VMAs or holes only shrinking in place, or moving whole to a fixed address, can succeed.
        bool oneVma = TryRegion(s, p, r, out ulong start, out ulong bytes) && s.Process(p).FindVma(start) is { } v && v.Start <= start && v.End >= start + bytes;
        _leavingUffd = (p, r, start);
        if (!oneVma && !_rng.Chance(MissPercent))
            return _rng.Chance(50)
                ? $"{p} mremap {r} any {Math.Max(Page, len / 2 / Page * Page)}"
                : $"{p} mremap {r} 0x{0x60000000L + _rng.Below(16) * Pmd:x} {len}";
        long newLen = _rng.Below(3) switch
        {
            0 => len + _rng.Pick(Lengths),
            1 => Math.Max(Page, len / 2 / Page * Page),
            _ => len,
        };
        string addr = _rng.Chance(60) ? "any" : $"0x{0x60000000L + _rng.Below(16) * Pmd + (_rng.Chance(30) ? 64 << 10 : 0):x}";
        return $"{p} mremap {r} {addr} {newLen}";
    }

    string Fork(string p)
    {
        if (_procs.Count >= MaxProcs) return NoOpReclaim();
        string c = $"p{_nextProc++}";
        _pendingFork = c;
        _forkParent = p;
        return $"{p} fork {c}";
    }

    /// <summary>What a fork or exit that cannot be done becomes: reclaim.</summary>
    string NoOpReclaim() => "reclaim";

    string Exit(string p)
    {
        if (_procs.Count == 1) return NoOpReclaim();
        _procs.Remove(p);
        _regions.Remove(p);
        _shared.RemoveWhere(x => x.Proc == p);
        _pins.RemoveAll(x => x.Proc == p);
        return $"{p} exit";
    }

    /// <summary>
    /// A userfaultfd statement on a region: registration (missing or wp for anonymous memory; missing,
    /// minor or wp for shmem), unregistration, or one of the filling ioctls. The
    /// handler is copy or zeropage: one that resolves nothing would leave a pin or populate waiting.
    /// </summary>
    string Uffd(ScenarioSession s, string p, string r)
    {
        // The ioctls mostly go inside a range registered before (else they only meet -ENOENT).
        var mine = _uffdRanges.Where(x => x.Proc == p && _regions[p].Contains(x.Region)).ToList();
        int op = _rng.Below(10);
        if (op >= 3 && mine.Count > 0 && !_rng.Chance(MissPercent))
        {
            var (_, reg, roff, rlen, modes) = _rng.Pick(mine);
            long pages = rlen / Page;
            long first = _rng.Below((int)Math.Min(pages, 4096));
            // A minor range has no write protection to change: UFFDIO_CONTINUE takes the write protection's turn.
            if (op == 8 && modes.Contains("minor")) op = 7;
            // UFFDIO_CONTINUE maps what the page cache holds: mostly start it at a cached page nothing maps yet.
            if (op == 7 && modes.Contains("minor") && !_rng.Chance(MissPercent))
                for (int tries = 0; tries < 8 && !Continuable(s, p, reg, roff + first * Page); tries++) first = _rng.Below((int)Math.Min(pages, 4096));
            long n = 1 + _rng.Below((int)Math.Min(pages - first, 64));
            string sub = $"{reg} {roff + first * Page} {n * Page}";
            if (op == 3) _leavingUffd = (p, reg, ulong.MaxValue);   // an unregistration leaves the region's ranges as a move does
            return op switch
            {
                3 => $"{p} uffd unregister {sub}",
                4 or 5 => $"{p} uffd copy {sub}",
                6 => $"{p} uffd zeropage {sub}",
                7 when modes.Contains("minor") => $"{p} uffd continue {sub}",
                7 => $"{p} uffd copy {sub}",
                _ => $"{p} uffd wp {sub} {_rng.Below(2)}",
            };
        }
        string range = Range(s, p, r, write: false);
        // Nothing registered yet: mostly a registration, now and then an ioctl that finds none.
        if (op >= 3 && _rng.Chance(20)) return $"{p} uffd {_rng.Pick(new[] { "unregister", "copy", "zeropage", "continue" })} {r} {range}";
        var parts = range.Split(' ');
        long off = long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), len = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        // Shmem where any VMA the range reaches maps a file (it may reach past the region).
        bool shmem = TryRegion(s, p, r, out ulong start, out _)
            && s.Process(p).Intersecting(start + (ulong)off, start + (ulong)(off + len)).Any(v => v.File != null);
        string mode = _rng.Pick(shmem ? new[] { "missing", "minor", "missing+minor", "wp", "missing+wp", "minor+wp" } : new[] { "missing", "wp", "missing+wp" });
        _pendingUffd = (p, r, off, len, mode);
        return $"{p} uffd register {r} {range} {mode}" + (_rng.Chance(40) ? " handler=zeropage" : "");
    }

    /// <summary>Ranges registered with userfaultfd (page-aligned ones), newest last.</summary>
    readonly List<(string Proc, string Region, long Off, long Len, string Modes)> _uffdRanges = new();
    (string Proc, string Region, long Off, long Len, string Modes)? _pendingUffd;
    /// <summary>
    /// A region whose recorded registrations go if the statement succeeds: one an mremap is about to
    /// move (with its start before, a move being a new start), or one about to be unregistered (start ulong.MaxValue).
    /// </summary>
    (string Proc, string Region, ulong Start)? _leavingUffd;

    string Pin(ScenarioSession s, string p, string r)
    {
        var (off, max) = Target(s, p, r, write: true);
        long len = Math.Min(_rng.Pick(new long[] { Page, 16 << 10, 64 << 10, 256 << 10 }), max) / Page * Page;
        len = Math.Max(len, Page);
        _pins.Add((p, r, off, len));
        return $"{p} pin {r} {off} {len}";
    }

    string Unpin()
    {
        if (_pins.Count == 0) return NoOpReclaim();
        var (p, r, off, len) = _pins[_rng.Below(_pins.Count)];
        _pins.Remove((p, r, off, len));
        if (!_procs.Contains(p) || !_regions[p].Contains(r)) return NoOpReclaim();
        return $"{p} unpin {r} {off} {len}";
    }

    /// <summary>"OFF LEN" inside what the region maps now (or, for a share, anywhere near it).</summary>
    string Range(ScenarioSession s, string p, string r, bool write)
    {
        if (_rng.Chance(MissPercent))
        {
            long regionLen = (long)RegionLength(s, p, r);
            // Past the end, across a boundary, or page-unaligned.
            return _rng.Below(3) switch
            {
                0 => $"{regionLen} {Page}",
                1 => $"{Math.Max(0, regionLen - Page)} {4 * Page}",
                _ => $"{Page + 100} {Page}",
            };
        }
        var (off, max) = Target(s, p, r, write);
        long len = _rng.Chance(20) ? max : Math.Min(max, Math.Max(Page, _rng.Below((int)Math.Min(max / Page, 1024) + 1) * Page));
        return $"{off} {len}";
    }

    /// <summary>
    /// A page of the region that a VMA maps now, readable (writable if asked) when there is one, and
    /// how many bytes from there the same VMA maps inside the region.
    /// </summary>
    (long Off, long Max) Target(ScenarioSession s, string p, string r, bool write)
    {
        if (!TryRegion(s, p, r, out ulong start, out ulong len)) return (0, Page);
        var mm = s.Process(p);
        var pieces = new List<(ulong Start, ulong End)>();
        foreach (var vma in mm.Intersecting(start, start + len))
            if ((vma.Flags & (write ? VmFlags.Write : VmFlags.Read)) != 0)
                pieces.Add((Math.Max(vma.Start, start), Math.Min(vma.End, start + len)));
        if (pieces.Count == 0) return (0, (long)Math.Min(len, (ulong)Page));
        var (a, e) = _rng.Pick(pieces);
        long pages = (long)(e - a) / Page;
        // Often from a 64K or PMD boundary of the piece, so large folios line up.
        long at = _rng.Below(3) switch
        {
            0 => 0,
            1 => _rng.Below((int)Math.Max(1, pages / 16)) * 16,
            _ => _rng.Below((int)Math.Min(pages, int.MaxValue)),
        };
        ulong addr = a + (ulong)(at * Page);
        return ((long)(addr - start), (long)(e - addr));
    }

    /// <summary>Whether the page at OFF of the region is in its file's page cache and not mapped (what UFFDIO_CONTINUE can map).</summary>
    static bool Continuable(ScenarioSession s, string p, string r, long off)
    {
        if (!TryRegion(s, p, r, out ulong start, out _)) return false;
        ulong addr = start + (ulong)off;
        var mm = s.Process(p);
        if (mm.FindVma(addr) is not { File: { } f } vma || addr < vma.Start) return false;
        long index = vma.PgOff + (long)((addr - vma.Start) / (ulong)s.Kernel.Geo.PageSize);
        return s.Kernel.FileEntryKind(f, index * s.Kernel.Geo.PageSize) == "shmem" && s.Kernel.FolioKindAt(mm, addr) == FolioKindProbe.None;
    }

    static bool Writable(ScenarioSession s, string p, string r) =>
        TryRegion(s, p, r, out ulong start, out ulong len) && s.Process(p).Intersecting(start, start + len).Any(v => (v.Flags & VmFlags.Write) != 0);

    /// <summary>
    /// A PMD-aligned stretch of the region that one VMA maps, for MADV_COLLAPSE: one or more blocks,
    /// starting at one that has pages mapped when there is one (an empty block cannot collapse).
    /// </summary>
    (long Off, long Len)? PmdAlignedRange(ScenarioSession s, string p, string r)
    {
        if (!TryRegion(s, p, r, out ulong start, out ulong len)) return null;
        var mm = s.Process(p);
        ulong pmd = (ulong)Pmd, page = (ulong)Page;
        (ulong Block, ulong End)? any = null;
        foreach (var vma in mm.Intersecting(start, start + len))
        {
            ulong e = Math.Min(vma.End, start + len);
            for (ulong a = (Math.Max(vma.Start, start) + pmd - 1) & ~(pmd - 1); a + pmd <= e; a += pmd)
            {
                any ??= (a, e);
                bool populated = Enumerable.Range(0, 8).Any(i => s.Kernel.FolioKindAt(mm, a + (ulong)i * (pmd / 8) + (ulong)_rng.Below(64) * page) != FolioKindProbe.None);
                if (populated) return ((long)(a - start), Pmd * (_rng.Below((int)((e - a) / pmd)) + 1));
            }
        }
        return any is var (b, end) ? ((long)(b - start), Pmd * (_rng.Below((int)((end - b) / pmd)) + 1)) : null;
    }

    static bool TryRegion(ScenarioSession s, string p, string r, out ulong start, out ulong len)
    {
        try
        {
            var b = s.Region(p, r, default);
            (start, len) = (b.Start, b.Length);
            return true;
        }
        catch (ScenarioRuntimeException) { (start, len) = (0, 0); return false; }
    }

    ulong RegionLength(ScenarioSession s, string p, string r) => TryRegion(s, p, r, out _, out ulong len) ? len : (ulong)Page;

    /// <summary>After a statement ran: which names now exist (a failed mmap leaves no usable region; a region with nothing mapped is dropped).</summary>
    public void Observe(ScenarioSession s)
    {
        if (_pendingRegion is var (p, r))
        {
            if (s.Rc >= 0) _regions[p].Add(r);
            if (s.Rc >= 0 && _pendingShared) _shared.Add((p, r));
            _pendingRegion = null;
        }
        if (_pendingFile is string f) { if (s.Rc == 0) _files.Add(f); _pendingFile = null; }
        if (_pendingNewProcess is string np)
        {
            _procs.Add(np);
            _allProcs.Add(np);
            _regions[np] = new();
            _pendingNewProcess = null;
        }
        if (_pendingMount is string m) { if (s.Rc == 0) _mounts.Add(m); _pendingMount = null; }
        if (_pendingFork is string c)
        {
            if (s.Rc == 0)
            {
                _procs.Add(c);
                _allProcs.Add(c);
                _regions[c] = new List<string>(_regions[_forkParent!]);
                foreach (var (_, region) in _shared.Where(x => x.Proc == _forkParent).ToList()) _shared.Add((c, region));
            }
            _pendingFork = null;
        }
        // A pin that failed holds nothing.
        if (_pins.Count > 0 && s.Rc != 0 && _lastWasPin) _pins.RemoveAt(_pins.Count - 1);
        // The OOM killer's victims are gone: their names are dropped (their statements would only give -ESRCH).
        _procs.RemoveAll(proc => s.Process(proc).Exited);
        _pins.RemoveAll(pin => !_procs.Contains(pin.Proc));
        foreach (var proc in _procs)
            _regions[proc].RemoveAll(name => !TryRegion(s, proc, name, out ulong start, out ulong len)
                || !s.Process(proc).AnyIntersecting(start, start + len));
        _shared.RemoveWhere(x => !_procs.Contains(x.Proc) || !_regions[x.Proc].Contains(x.Region));
        if (_pendingUffd is { } u && s.Rc == 0 && u.Off % Page == 0 && u.Len % Page == 0 && u.Len > 0) _uffdRanges.Add(u);
        _pendingUffd = null;
        // A moved range is no longer registered (no UFFD_FEATURE_EVENT_REMAP), nor is one unregistered: their ioctls would only meet -ENOENT.
        if (_leavingUffd is { } mr && s.Rc >= 0 && (ulong)s.Rc != mr.Start) _uffdRanges.RemoveAll(x => x.Proc == mr.Proc && x.Region == mr.Region);
        _leavingUffd = null;
        _uffdRanges.RemoveAll(x => !_procs.Contains(x.Proc) || !_regions[x.Proc].Contains(x.Region));
        if (_uffdRanges.Count > 64) _uffdRanges.RemoveAt(0);
    }

    bool _lastWasPin;
    public void BeforeRun(string line) => _lastWasPin = line.Contains(" pin ", StringComparison.Ordinal);

    /// <summary>
    /// The closing checks: every live region of every live process reads back what was written,
    /// except where the kernel dropped stores (a clean lazily freed folio shared with the process that
    /// freed it), which the invariant checker has accepted after each statement.
    /// </summary>
    public IEnumerable<string> Epilogue(ScenarioSession s) => LiveRegions()
        .Where(x => s.Region(x.Process, x.Region, default) is var r && !s.Kernel.KernelDroppedStores(s.Process(x.Process), r.Start, r.Start + r.Length))
        .Select(x => $"expect {x.Process} intact {x.Region} == 1");

    /// <summary>The files created so far (memfds and tmpfs files; files live until the scenario ends).</summary>
    public IReadOnlyList<string> LiveFiles => _files;

    /// <summary>Every region of every live process that still maps something.</summary>
    public IEnumerable<(string Process, string Region)> LiveRegions() => _procs.SelectMany(p => _regions[p].Select(r => (p, r)));
}

/// <summary>Which statements a generator may use.</summary>
/// <remarks>
/// <paramref name="Pageout"/>: MADV_PAGEOUT and MADV_COLD of anonymous memory and shmem. <paramref name="Swap"/>: the
/// machine has swap (every collapse design handles swap entries).
/// <paramref name="Cgroups"/>: memory cgroups with small limits (charge fallbacks, reclaim in the group,
/// which swaps where there is swap; OOM kills), processes moved between them.
/// <paramref name="AnySwapDevice"/>: the swap device is zram, a disk or a file (else the machine line's,
/// zram by default). The live side keeps zram: with a rotational device read-ahead follows global
/// state the machine carries from run to run.
/// <paramref name="SmallAnonSizes"/>: whether the two smallest anonymous sizes (16K and 32K with 4K pages) may be enabled.
/// <paramref name="PageSize"/>: the base page size of <paramref name="Machine"/> (4096 is x86_64; larger ones arm64).
/// <paramref name="CgroupPercent"/>: the share of scenarios that have cgroups (with <paramref name="Cgroups"/>).
/// <paramref name="Uffd"/>: whether userfaultfd statements are generated.
/// <paramref name="Fragmentation"/>: ageing (<c>age</c>), <c>compact</c>, the proactiveness sysctl and the defrag settings;
/// not live (the live machine cannot be aged, and its placement differs).
/// <paramref name="ForkInCgroups"/>: whether processes fork once cgroups exist (live, a fork charges the child's kernel
/// objects and the page tables of the driver's whole image to the group, hundreds of kB the model does not have).
/// </remarks>
public sealed record GeneratorProfile(string Machine, bool CollapsePolicies, bool KhugepagedScans, int[] PagesToScan, bool Shmem = false,
    bool Pageout = false, bool Swap = false, bool Cgroups = false, bool SmallAnonSizes = true, int CgroupPercent = 60, bool ForkInCgroups = true, bool AnySwapDevice = false,
    bool Uffd = true, bool Fragmentation = false, int PageSize = 4096)
{
    /// <summary>Everything the simulator runs, on a small machine (episodes are fast), memory cgroups included.</summary>
    public static readonly GeneratorProfile Simulator = new("machine memory=96M", true, true, [512, 4096, 65536], Shmem: true, Pageout: true, Cgroups: true, Fragmentation: true);
    /// <summary>The simulator with swap (zram, disk or file): pageout swaps out, faults swap in; memory enough that nothing presses.</summary>
    public static readonly GeneratorProfile SimulatorSwap = new("machine memory=512M swap=64M", true, true, [512, 4096, 65536], Shmem: true, Pageout: true, Swap: true, AnySwapDevice: true, Fragmentation: true);
    /// <summary>The simulator with swap and memory cgroups on a small machine: reclaim in the groups, the reclaim statement and machine-wide pressure swap, shmem as well as anonymous memory.</summary>
    public static readonly GeneratorProfile SimulatorSwapCgroups = SimulatorSwap with { Machine = "machine memory=96M swap=64M", Cgroups = true };
    /// <summary>Everything the simulator runs, on arm64 with 4K pages: the contiguous bit folds 64K blocks.</summary>
    public static readonly GeneratorProfile Arm64Page4K = Simulator with { Machine = "machine memory=96M arch=arm64" };
    /// <summary>Everything the simulator runs on arm64 with 16K pages (PMD 32M), swap and memory cgroups included.</summary>
    public static readonly GeneratorProfile Arm64Page16K = SimulatorSwap with { Machine = "machine memory=512M page=16K arch=arm64 swap=128M", Cgroups = true, PageSize = 16384 };
    /// <summary>
    /// Everything the simulator runs on arm64 with 64K pages (PMD 512M), swap and memory cgroups included.
    /// A swap cluster is a PMD's worth of slots (512M here), and the first holds the header: with less
    /// than 1G of swap no cluster is free for a large folio, and every one is split to be swapped out.
    /// </summary>
    public static readonly GeneratorProfile Arm64Page64K = SimulatorSwap with { Machine = "machine memory=2G page=64K arch=arm64 swap=2G", Cgroups = true, PageSize = 65536 };
    /// <summary>
    /// What the live kernel can reproduce (the oracle's limits): a machine of at least 1G, its own
    /// collapse design, and khugepaged only as whole scans (no simulated clock). A live full scan
    /// also walks every other process on the machine, one PMD per wake-up at pages_to_scan=512, so
    /// that value could take minutes; larger ones only.
    /// </summary>
    public static readonly GeneratorProfile Live = new("machine memory=4G", false, false, [4096, 65536], Shmem: true);
    /// <summary>The live profile with zram swap (1G), pageout and cold.</summary>
    public static readonly GeneratorProfile LiveSwap = Live with { Machine = "machine memory=4G swap=1G", Pageout = true, Swap = true };
    /// <summary>
    /// The live profile with memory cgroups. 16K and 32K stay off: over the limit in a MADV_HUGEPAGE
    /// VMA the live (vendor) kernel falls back where upstream 6.18 reclaims and OOM-kills (docs/fidelity.md).
    /// No userfaultfd: a handler's UFFDIO_COPY over the limit runs the memcg OOM killer live, where the
    /// model ends the access with -ENOMEM.
    /// </summary>
    public static readonly GeneratorProfile LiveCgroups = Live with { Cgroups = true, SmallAnonSizes = false, CgroupPercent = 100, ForkInCgroups = false, Uffd = false };
    /// <summary>
    /// The cgroups profile on a machine with zram swap and pageout, without shmem: reclaim in the groups
    /// swaps. No shmem: a file's page cache nodes are charged to the group, and live frees them only
    /// after an RCU grace period, which moves when reclaim starts (the model frees them at once). Kept
    /// without shmem since the model charges them too (2026-12-07), so that a seed's scenarios stay the same.
    /// </summary>
    public static readonly GeneratorProfile LiveSwapCgroups = LiveCgroups with { Machine = "machine memory=4G swap=1G", Pageout = true, Swap = true, Shmem = false };
}
