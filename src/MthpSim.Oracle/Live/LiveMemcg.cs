namespace MthpSim.Oracle.Live;

/// <summary>
/// A private child memory cgroup (cgroup v1 here) that holds the scenario's drivers, so that the
/// <c>reclaim</c> statement can drive real reclaim of exactly their memory: memory.force_empty runs
/// try_to_free_mem_cgroup_pages() on the group, which shrinks its LRU (lazily freed folios sit on the
/// file LRU, so they go even without swap) and its memcg-aware shrinkers (the deferred split queue).
/// </summary>
public sealed class LiveMemcg : IDisposable
{
    readonly string _path;

    LiveMemcg(string path) => _path = path;

    /// <summary>The group's directory (the scenario's own cgroups go inside it, so that reclaim covers them).</summary>
    public string Path => _path;

    /// <summary>Creates the group under this process's memory cgroup, or returns null with the reason.</summary>
    public static LiveMemcg? TryCreate(out string? why)
    {
        why = null;
        if (OwnGroup() is not string own) { why = "no cgroup v1 memory controller"; return null; }
        string path = System.IO.Path.Combine(own, $"mthpsim-oracle-{Environment.ProcessId}");
        try { Directory.CreateDirectory(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { why = e.Message; return null; }
        return File.Exists(System.IO.Path.Combine(path, "memory.force_empty")) ? new LiveMemcg(path) : null;
    }

    /// <summary>The directory of this process's cgroup v1 memory group, or null when there is no such controller.</summary>
    internal static string? OwnGroup()
    {
        const string root = "/sys/fs/cgroup/memory";
        string? rel = File.ReadAllLines("/proc/self/cgroup")
            .Select(l => l.Split(':', 3)).Where(p => p.Length == 3 && p[1].Split(',').Contains("memory")).Select(p => p[2]).FirstOrDefault();
        return rel == null || !Directory.Exists(root) ? null : root + rel.TrimEnd('/');
    }

    public void Add(int pid) => File.WriteAllText(System.IO.Path.Combine(_path, "cgroup.procs"), pid.ToString());

    /// <summary>
    /// Reclaims as much of the group's memory as can be reclaimed through <paramref name="write"/>
    /// (the session's, on the drivers' CPU); -EBUSY once only unreclaimable memory is left (anon
    /// memory without swap stays, as expected). Any other error is the oracle's and is reported.
    /// </summary>
    public void Reclaim(Func<string, string, int> write)
    {
        int rc = write(System.IO.Path.Combine(_path, "memory.force_empty"), "0");
        if (rc != 0 && rc != -MthpSim.Core.Errno.EBUSY)
            throw new OracleUnavailableException($"writing {_path}/memory.force_empty failed: errno {-rc}");
    }

    public void Dispose()
    {
        for (int i = 0; i < 50; i++)
        {
            try { Directory.Delete(_path); return; }
            catch (IOException) { Thread.Sleep(20); }   // the drivers are still exiting
        }
    }
}
