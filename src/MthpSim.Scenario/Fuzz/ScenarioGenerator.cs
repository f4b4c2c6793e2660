using System.Globalization;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Fuzz;

/// <summary>
/// Generates random but valid scenario statements, one at a time, reacting to what the previous
/// ones did (which mappings exist, which processes live, what is pinned). Each statement comes with
/// its source line, so a failing run is a scenario file as it stands.
/// </summary>
public sealed class ScenarioGenerator
{
    readonly SplitMix64 _rng;
    readonly List<string> _procs = new();
    readonly Dictionary<string, List<string>> _regions = new();
    readonly List<(string Proc, string Region, long Off, long Len)> _pins = new();
    int _nextProc, _nextRegion, _line;
    const int MaxProcs = 5;
    const int MaxRegionsPerProc = 6;

    static readonly string[] Sizes = ["16kB", "32kB", "64kB", "128kB", "256kB", "512kB", "1024kB", "2048kB"];
    static readonly string[] PerSize = ["always", "inherit", "madvise", "never"];
    static readonly string[] Global = ["always", "madvise", "never"];
    static readonly long[] Lengths = [4 << 10, 16 << 10, 48 << 10, 64 << 10, 200 << 10, 1 << 20, 2 << 20, 4 << 20, 6 << 20];

    public ScenarioGenerator(ulong seed) => _rng = new SplitMix64(seed);

    /// <summary>The machine and the first process, as text.</summary>
    public IEnumerable<string> Prologue()
    {
        yield return "machine memory=96M";
        yield return "process p0";
    }

    public void OnPrologueRun()
    {
        _procs.Add("p0");
        _regions["p0"] = new();
        _nextProc = 1;
    }

    /// <summary>The next statement's text (the caller parses and runs it, then reports back with <see cref="Observe"/>).</summary>
    public string Next(ScenarioSession session)
    {
        _line++;
        string p = _rng.Pick(_procs);
        var regions = _regions[p];
        int roll = _rng.Below(100);
        if (roll < 6) return Sysfs();
        if (roll < 16 || regions.Count == 0) return regions.Count < MaxRegionsPerProc ? Mmap(p) : Access(p, regions);
        if (roll < 45) return Access(p, regions);
        string r = _rng.Pick(regions);
        long len = (long)RegionLength(session, p, r);
        return roll switch
        {
            < 55 => Madvise(p, r, len),
            < 60 => $"{p} munmap {r} {Off(len)} {Len(len)}",
            < 65 => $"{p} mprotect {r} {Off(len)} {Len(len)} {_rng.Pick(new[] { "r", "rw", "rw", "none" })}",
            < 70 => Mremap(p, r, len),
            < 76 => Fork(p),
            < 79 => Exit(p),
            < 86 => Pin(p, r, len),
            < 90 => Unpin(),
            < 92 => "reclaim",
            < 94 => _rng.Chance(50) ? $"khugepaged scan {1 + _rng.Below(3)}" : $"sleep {_rng.Pick(new[] { "1s", "10s", "1m" })}",
            _ => Access(p, regions),
        };
    }

    string Sysfs()
    {
        return _rng.Below(8) switch
        {
            0 => $"sysfs enabled = {_rng.Pick(Global)}",
            7 => $"policy collapse = {_rng.Pick(MthpSim.Core.Khugepaged.Policies.CollapsePolicies.BuiltIn)}",
            6 => $"sysfs khugepaged/pages_to_scan = {_rng.Pick(new[] { 512, 4096, 65536 })}",
            1 => $"sysfs use_zero_page = {_rng.Below(2)}",
            2 => $"sysfs khugepaged/max_ptes_none = {_rng.Pick(new[] { 0, 64, 255, 256, 384, 511 })}",
            3 => $"sysfs shrink_underused = {_rng.Below(2)}",
            _ => $"sysfs hugepages-{_rng.Pick(Sizes)}/enabled = {_rng.Pick(PerSize)}",
        };
    }

    string Mmap(string p)
    {
        string r = $"r{_nextRegion++}";
        long len = _rng.Pick(Lengths);
        // Fixed addresses in a small window make overlaps (-EEXIST), neighbours and merges likely.
        string addr = _rng.Chance(30) ? "any" : $"0x{0x40000000L + _rng.Below(24) * (512L << 10):x}";
        string prot = _rng.Chance(85) ? "rw" : "r";
        _pendingRegion = (p, r);
        return $"{p} mmap {r} {addr} {len} {prot}";
    }

    (string Proc, string Region)? _pendingRegion;
    string? _pendingFork;

    string Access(string p, List<string> regions)
    {
        if (regions.Count == 0) return Sysfs();
        string r = _rng.Pick(regions);
        string verb = _rng.Chance(70) ? "write" : "read";
        long off = _rng.Below(64) * (64L << 10) + (_rng.Chance(30) ? _rng.Below(16) * 4096L : 0);
        long len = _rng.Pick(new long[] { 4096, 16 << 10, 64 << 10, 256 << 10, 1 << 20 });
        string step = _rng.Chance(30) ? $" step={_rng.Pick(new[] { "4K", "64K", "2M" })}" : "";
        return $"{p} {verb} {r} {off} {len}{step}";
    }

    string Madvise(string p, string r, long len)
    {
        string advice = _rng.Pick(new[] { "hugepage", "nohugepage", "dontneed", "dontneed", "free", "populate_read", "populate_write", "collapse" });
        return $"{p} madvise {r} {Off(len)} {Len(len)} {advice}";
    }

    string Mremap(string p, string r, long len)
    {
        long newLen = Math.Max(4096, _rng.Chance(50) ? len + _rng.Pick(Lengths) : len / 2 / 4096 * 4096);
        string addr = _rng.Chance(50) ? "any" : $"0x{0x60000000L + _rng.Below(16) * (2L << 20) + (_rng.Chance(30) ? 64 << 10 : 0):x}";
        return $"{p} mremap {r} {addr} {newLen}";
    }

    string Fork(string p)
    {
        if (_procs.Count >= MaxProcs) return "reclaim";
        string c = $"p{_nextProc++}";
        _pendingFork = c;
        _forkParent = p;
        return $"{p} fork {c}";
    }

    string? _forkParent;

    string Exit(string p)
    {
        if (_procs.Count == 1) return "reclaim";
        _procs.Remove(p);
        _regions.Remove(p);
        _pins.RemoveAll(x => x.Proc == p);
        return $"{p} exit";
    }

    string Pin(string p, string r, long len)
    {
        long off = Off(len), plen = Math.Min(64 << 10, Math.Max(4096, len - off)) / 4096 * 4096;
        _pins.Add((p, r, off, plen));
        return $"{p} pin {r} {off} {plen}";
    }

    string Unpin()
    {
        if (_pins.Count == 0) return "reclaim";
        var (p, r, off, len) = _pins[_rng.Below(_pins.Count)];
        _pins.Remove((p, r, off, len));
        if (!_procs.Contains(p)) return "reclaim";
        return $"{p} unpin {r} {off} {len}";
    }

    long Off(long len) => len <= 4096 ? 0 : _rng.Below((int)(len / 4096)) * 4096L;
    long Len(long len) => Math.Max(4096, _rng.Below((int)(len / 4096) + 1) * 4096L);

    static ulong RegionLength(ScenarioSession s, string p, string r)
    {
        try { return s.Region(p, r, default).Length; }
        catch (ScenarioRuntimeException) { return 4096; }
    }

    /// <summary>After a statement ran: which names now exist (a failed mmap leaves no usable region).</summary>
    public void Observe(ScenarioSession s)
    {
        if (_pendingRegion is var (p, r))
        {
            try { s.Region(p, r, default); _regions[p].Add(r); } catch (ScenarioRuntimeException) { }
            _pendingRegion = null;
        }
        if (_pendingFork is string c)
        {
            if (s.Rc == 0)
            {
                _procs.Add(c);
                _regions[c] = new List<string>(_regions[_forkParent!]);
            }
            _pendingFork = null;
        }
        // A pin that failed holds nothing.
        if (_pins.Count > 0 && s.Rc != 0 && _lastWasPin) _pins.RemoveAt(_pins.Count - 1);
    }

    bool _lastWasPin;
    public void BeforeRun(string line) => _lastWasPin = line.Contains(" pin ", StringComparison.Ordinal);

    /// <summary>The closing checks: every live region of every live process reads back what was written.</summary>
    public IEnumerable<string> Epilogue() =>
        _procs.SelectMany(p => _regions[p].Select(r => $"expect {p} intact {r} == 1"));
}
