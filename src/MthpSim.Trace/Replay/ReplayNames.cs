using MthpSim.Trace.Format;

namespace MthpSim.Trace.Replay;

/// <summary>
/// The names the scenario language's <c>replay TRACE as PREFIX</c> binds: each traced process's
/// number (in the order the trace creates them: its first exec, or the fork or vfork that made it)
/// and its named regions: <c>stack</c>, <c>heap</c> (the brk area), and one per mapped file, named
/// after the file (see <see cref="RegionName"/>). Read from the trace alone, before it is replayed,
/// so that a scenario's later statements can be checked.
/// </summary>
public static class ReplayNames
{
    public sealed record Process(int Number, int Pid, bool Exited, IReadOnlyList<string> Regions);

    /// <summary>A file's region name: its basename with every character but ASCII letters, digits and '_' made '_' (libc.so.6 → libc_so_6), '_' first if it starts with a digit.</summary>
    public static string RegionName(string path)
    {
        string b = Path.GetFileName(path.TrimEnd('/'));
        var chars = b.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_' ? ch : '_').ToArray();
        string s = new(chars);
        return s.Length == 0 ? "_" : char.IsAsciiDigit(s[0]) ? "_" + s : s;
    }

    /// <summary>The region name of a mapping's path, or null for an anonymous or special one.</summary>
    public static string? RegionOf(string? path) => path switch
    {
        null or "" or "//anon" => null,
        "[stack]" => "stack",
        "[heap]" => "heap",
        _ when path.StartsWith('[') => null,
        _ => RegionName(path),
    };

    public static List<Process> Read(TraceReader reader)
    {
        var byPid = new Dictionary<int, (int Number, SortedSet<string> Names, bool Exited)>();
        var order = new List<int>();
        void Number(int pid, SortedSet<string> names)
        {
            if (!byPid.ContainsKey(pid)) order.Add(pid);
            byPid[pid] = (byPid.TryGetValue(pid, out var p) ? p.Number : order.Count, names, false);
        }
        while (reader.Read(out var e))
        {
            switch (e.Kind)
            {
                case TraceEventKind.Exec: Number(e.Pid, new SortedSet<string>(StringComparer.Ordinal)); break;
                case TraceEventKind.Task when (e.CloneFlags & LinuxAbi.CloneThread) == 0:
                    Number(e.Child, byPid.TryGetValue(e.Pid, out var parent) ? new SortedSet<string>(parent.Names, StringComparer.Ordinal) : new(StringComparer.Ordinal));
                    break;
                case TraceEventKind.KernelMap or TraceEventKind.Mmap when e.Kind == TraceEventKind.KernelMap || e.Ret >= 0:
                    if (RegionOf(e.Path) is { } r && byPid.TryGetValue(e.Pid, out var p)) p.Names.Add(r);
                    break;
                case TraceEventKind.Brk when e.Addr != 0 && e.Ret > 0:
                    if (byPid.TryGetValue(e.Pid, out var h)) h.Names.Add("heap");
                    break;
                case TraceEventKind.Exit when e.GroupDead:
                    if (byPid.TryGetValue(e.Pid, out var x)) byPid[e.Pid] = x with { Exited = true };
                    break;
            }
        }
        return order.Select(pid => new Process(byPid[pid].Number, pid, byPid[pid].Exited, [.. byPid[pid].Names])).ToList();
    }
}
