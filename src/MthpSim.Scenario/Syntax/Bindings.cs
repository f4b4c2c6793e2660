namespace MthpSim.Scenario.Syntax;

/// <summary>The names a scenario has defined so far — processes, their regions, files and tmpfs mounts —
/// so that a misspelled or not-yet-created name is an error before anything runs.
/// Only names are tracked; whether a region is still mapped is the runtime's business.</summary>
internal sealed class Bindings
{
    internal sealed class ProcessInfo(int createdLine, Dictionary<string, int> regions)
    {
        public int CreatedLine { get; } = createdLine;
        public int? ExitedLine { get; set; }
        /// <summary>Region name to the line of the mmap that (last) defined it.</summary>
        public Dictionary<string, int> Regions { get; } = regions;
    }

    private readonly Dictionary<string, ProcessInfo> _processes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _mounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _cgroups = new(StringComparer.Ordinal);

    public IEnumerable<string> LiveProcesses => _processes.Where(p => p.Value.ExitedLine is null).Select(p => p.Key);
    public IEnumerable<string> Files => _files.Keys;
    public IEnumerable<string> Mounts => _mounts.Keys;

    public ProcessInfo? Process(string name) => _processes.GetValueOrDefault(name);

    public void AddProcess(string name, int line) =>
        _processes[name] = new ProcessInfo(line, new(StringComparer.Ordinal));

    /// <summary>The child starts with the parent's region names as they are at the fork.</summary>
    public void Fork(string parent, string child, int line) =>
        _processes[child] = new ProcessInfo(line, new Dictionary<string, int>(_processes[parent].Regions, StringComparer.Ordinal));

    /// <summary>memfd files and files on tmpfs mounts share one namespace: every file statement takes either.</summary>
    public int? FileLine(string name) => _files.TryGetValue(name, out int line) ? line : null;

    public void AddFile(string name, int line) => _files[name] = line;

    public int? MountLine(string name) => _mounts.TryGetValue(name, out int line) ? line : null;

    public void AddMount(string name, int line) => _mounts[name] = line;

    public IEnumerable<string> Cgroups => _cgroups.Keys;
    public int? CgroupLine(string name) => _cgroups.TryGetValue(name, out int line) ? line : null;
    public void AddCgroup(string name, int line) => _cgroups[name] = line;
}
