using MthpSim.Core;
using MthpSim.Core.PageTable;
using MthpSim.Core.Shmem;
using MthpSim.Core.Vma;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Runtime;

/// <summary>
/// A mapping a scenario named: where the mmap of line <paramref name="Line"/> placed it (or that it
/// failed), and whether a munmap has since covered all of it (<paramref name="Unmapped"/>).
/// </summary>
public sealed record RegionBinding(ulong Start, ulong Length, long MmapRc, int Line = 0, bool Unmapped = false)
{
    public bool Mapped => MmapRc >= 0;
    /// <summary>Still names a mapping: a new mmap of the name would leave it unreachable.</summary>
    public bool Holds => Mapped && !Unmapped;
}

/// <summary>
/// The state of one running scenario: the simulated kernel, the scenario's processes and regions,
/// and the latest <c>rc</c>. Talks to the model only through the kernel's syscall-like methods.
/// </summary>
public sealed class ScenarioSession
{
    public Kernel Kernel { get; }
    public long Rc { get; set; }
    readonly Dictionary<string, MmStruct> _processes = new();
    readonly Dictionary<(string Process, string Region), RegionBinding> _regions = new();

    public ScenarioSession(Kernel kernel) => Kernel = kernel;

    /// <summary>The process a name stands for; one that exited or was killed stays, marked Exited.</summary>
    public MmStruct Process(string name) => _processes[name];
    public void AddProcess(string name, MmStruct mm) => _processes[name] = mm;

    /// <summary>Every process the scenario named, in the order they were created, exited ones included.</summary>
    public IEnumerable<(string Name, MmStruct Mm)> NamedProcesses => _processes.Select(p => (p.Key, p.Value));

    readonly Dictionary<string, UffdHandlerThread> _uffdHandlers = new();

    /// <summary>The process's userfaultfd handler thread, opening its userfaultfd on first use.</summary>
    public UffdHandlerThread UffdHandler(string name)
    {
        if (_uffdHandlers.TryGetValue(name, out var h)) return h;
        h = _uffdHandlers[name] = new UffdHandlerThread();
        Kernel.UserfaultfdOpen(Process(name), h);
        return h;
    }

    /// <summary>What a fork by a process that no longer exists leaves its child's name bound to: nothing alive.</summary>
    public static MmStruct Gone(string name) => new(-1, name, new PageTables(9, pudLevel: true)) { Exited = true };   // never walked

    readonly Dictionary<string, MthpSim.Core.Memcg.MemCgroup> _cgroups = new();
    public void BindCgroup(string name, MthpSim.Core.Memcg.MemCgroup cg) => _cgroups[name] = cg;
    public MthpSim.Core.Memcg.MemCgroup Cgroup(string name) => _cgroups[name];

    public void BindRegion(string process, string region, RegionBinding b) => _regions[(process, region)] = b;

    /// <summary>The region's binding as it stands, failed mmap included; null before its first mmap ran.</summary>
    public RegionBinding? Binding(string process, string region) => _regions.GetValueOrDefault((process, region));

    readonly Dictionary<string, ShmemFile?> _files = new();
    readonly Dictionary<string, TmpfsMount?> _mounts = new();

    /// <summary>Binds a file name; null when its creation failed.</summary>
    public void BindFile(string name, ShmemFile? f) => _files[name] = f;
    public void BindMount(string name, TmpfsMount? m) => _mounts[name] = m;

    /// <summary>The file a statement names; one whose creation failed cannot be used and says why.</summary>
    public ShmemFile File(string name, SourceSpan at) =>
        _files[name] ?? throw new ScenarioRuntimeException(at, $"file '{name}' does not exist: its creation failed");

    /// <summary>The tmpfs mount, or null when its mount failed.</summary>
    public TmpfsMount? Mount(string name) => _mounts[name];

    /// <summary>A forked child inherits its parent's region names.</summary>
    public void InheritRegions(string parent, string child)
    {
        foreach (var ((p, r), b) in _regions.Where(kv => kv.Key.Process == parent).ToList()) _regions[(child, r)] = b;
    }

    /// <summary>Whether the process has the region (one whose fork never happened has none): statements of such a process fail with -ESRCH.</summary>
    public bool HasRegion(string process, string region) => _regions.ContainsKey((process, region));

    /// <summary>The region's binding; a region whose mmap failed cannot be used and says why.</summary>
    public RegionBinding Region(string process, string region, SourceSpan at)
    {
        if (!_regions.TryGetValue((process, region), out var b))
            throw new ScenarioRuntimeException(at, $"process '{process}' has no region '{region}': the fork that made it failed or never happened");
        if (!b.Mapped)
            throw new ScenarioRuntimeException(at, $"region '{region}' of process '{process}' has no address: its mmap returned {Errno.Name(b.MmapRc)}");
        return b;
    }

    /// <summary>Converts an offset inside a region to an address.</summary>
    public ulong Address(string process, string region, long offset, SourceSpan at) =>
        Region(process, region, at).Start + (ulong)offset;
}

/// <summary>A statement that cannot be carried out; stops the run with its location.</summary>
public sealed class ScenarioRuntimeException(SourceSpan at, string message) : Exception(message)
{
    public SourceSpan At { get; } = at;
    public override string ToString() => $"{At.File}:{At.Line}:{At.Column}: error: {Message}";
}
