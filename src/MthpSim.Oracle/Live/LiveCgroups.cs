using System.Globalization;
using MthpSim.Core;
using MthpSim.Oracle.Settings;

namespace MthpSim.Oracle.Live;

/// <summary>
/// The scenario's memory cgroups on the live machine (cgroup v1 here): one directory per
/// <c>cgroup CG</c> under this process's memory cgroup, named mthpsim-oracle-PID-CG, written to a
/// journal before it is made, so that a run killed by SIGKILL leaves a list the next run undoes
/// first (<see cref="CleanupFromJournal"/>): tasks still inside go back to the parent, the
/// directory is removed. Limits are memory.limit_in_bytes, proactive reclaim memory.force_empty.
/// </summary>
public sealed class LiveCgroups : JournalledChange
{
    const string Root = "/sys/fs/cgroup/memory";
    const string Prefix = "mthpsim-oracle-";
    readonly string _parent;
    readonly Dictionary<string, string> _paths = new(StringComparer.Ordinal);

    /// <summary>
    /// Writes a group's control file (rc 0 or a negative errno). Limit writes and force_empty reclaim
    /// on the writer's CPU, whose per-CPU swap cluster picks the slots: the session writes through a
    /// driver on the drivers' CPU.
    /// </summary>
    readonly Func<string, string, int> _write;

    LiveCgroups(string journal, string parent, Func<string, string, int> write) : base(journal) => (_parent, _write) = (parent, write);

    /// <summary>The cgroup journal that goes with a settings journal.</summary>
    public static string JournalFor(string settingsJournal) => settingsJournal + ".cgroups";

    /// <summary>Where this process's memory cgroup is, or the reason the live side has none to make groups under.</summary>
    public static LiveCgroups Start(string journal, string? parent = null, Func<string, string, int>? write = null)
    {
        parent ??= LiveMemcg.OwnGroup()
            ?? throw new OracleUnavailableException("the live machine has no cgroup v1 memory controller for the scenario's cgroups");
        return new LiveCgroups(journal, parent, write ?? SysfsFile.WriteValue);
    }

    /// <summary>Makes the group, with its limit if one is given; rc 0 or a negative errno.</summary>
    public long Create(string name, long? limitBytes)
    {
        string path = Path.Combine(_parent, $"{Prefix}{Environment.ProcessId}-{name}");
        lock (Lock)
        {
            if (Closed) throw new InvalidOperationException("the live session has stopped");
            File.AppendAllLines(Journal, [path]);
            try { Directory.CreateDirectory(path); }
            catch (IOException e) { throw new OracleUnavailableException($"could not make the memory cgroup {path}: {e.Message}"); }
            _paths[name] = path;
        }
        return limitBytes is long l ? SetLimit(name, l) : 0;
    }

    /// <summary>Writes memory.limit_in_bytes (-1 for no limit): 0, or -EBUSY when reclaim cannot get usage under it.</summary>
    public long SetLimit(string name, long? limitBytes) =>
        _write(Path.Combine(_paths[name], "memory.limit_in_bytes"), (limitBytes ?? -1).ToString(CultureInfo.InvariantCulture));

    /// <summary>Moves a task into the group.</summary>
    public long Attach(string name, int pid) =>
        _write(Path.Combine(_paths[name], "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>memory.force_empty: reclaims all the group's memory it can.</summary>
    public long Reclaim(string name)
    {
        int rc = _write(Path.Combine(_paths[name], "memory.force_empty"), "0");
        return rc == -Errno.EBUSY ? 0 : rc;   // memory reclaim cannot take (anon without swap) stays charged
    }

    /// <summary>memory.usage_in_bytes or memory.max_usage_in_bytes, in bytes.</summary>
    public long Read(string name, bool max) =>
        long.Parse(File.ReadAllText(Path.Combine(_paths[name], max ? "memory.max_usage_in_bytes" : "memory.usage_in_bytes")).Trim(), CultureInfo.InvariantCulture);

    protected override List<string> Undo(string journal) => CleanupFromJournal(journal);

    /// <summary>Removes every group the journal lists (only the oracle's own: the journal is a plain file and must never remove anything else).</summary>
    public static List<string> CleanupFromJournal(string journal)
    {
        var errors = new List<string>();
        foreach (var path in File.ReadAllLines(journal).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct())
        {
            if (!path.StartsWith(Root + "/", StringComparison.Ordinal) || !Path.GetFileName(path).StartsWith(Prefix, StringComparison.Ordinal) || path.Contains(".."))
            {
                errors.Add($"the cgroup journal {journal} lists {path}, which is not one of the oracle's groups; left alone");
                continue;
            }
            if (!Directory.Exists(path)) continue;
            string parent = Path.GetDirectoryName(path)!;
            bool removed = false;
            for (int i = 0; i < 100 && !removed; i++)
            {
                // Tasks still inside (a driver that has not finished exiting) go back to the parent first.
                try
                {
                    foreach (var pid in File.ReadAllLines(Path.Combine(path, "cgroup.procs")).Where(l => l.Trim().Length > 0))
                        SysfsFile.WriteValue(Path.Combine(parent, "cgroup.procs"), pid.Trim());
                    Directory.Delete(path);
                    removed = true;
                }
                catch (IOException) { Thread.Sleep(20); }
            }
            if (!removed) errors.Add($"could not remove the memory cgroup {path}");
        }
        if (errors.Count == 0) File.Delete(journal);
        return errors;
    }
}
