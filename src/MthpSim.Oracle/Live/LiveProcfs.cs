using System.Globalization;

namespace MthpSim.Oracle.Live;

/// <summary>One VMA of /proc/PID/smaps with its fields (kB values, THPeligible as a number) and its permissions ("rw-p").</summary>
public sealed record SmapsVma(ulong Start, ulong End, Dictionary<string, long> Fields, string VmFlags, string Perms = "----")
{
    /// <summary>Readable, writable or executable (not PROT_NONE).</summary>
    public bool Accessible => Perms.Length >= 3 && (Perms[0] == 'r' || Perms[1] == 'w' || Perms[2] == 'x');
}

/// <summary>
/// One line of /proc/PID/maps: the range, permissions ("rw-s"), the file offset in bytes, and the
/// file's identity (device major:minor and inode; 0 for private anonymous memory).
/// </summary>
public sealed record MapsVma(ulong Start, ulong End, string Perms, ulong Offset, uint Major, uint Minor, ulong Inode, string Path)
{
    public bool Shared => Perms.Length > 3 && Perms[3] == 's';
    public bool Writable => Perms.Length > 1 && Perms[1] == 'w';
    /// <summary>Backed by a file: a shared mapping (shared anonymous memory is a shmem file too) or a private file mapping.</summary>
    public bool FileBacked => Shared || Inode != 0;
    public (uint, uint, ulong) FileKey => (Major, Minor, Inode);
    /// <summary>The file offset of the page at <paramref name="addr"/>.</summary>
    public ulong FileOffsetOf(ulong addr) => Offset + (addr - Start);

    public static MapsVma? Parse(string line)
    {
        var f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 5) return null;
        var range = f[0].Split('-');
        var dev = f[3].Split(':');
        if (range.Length != 2 || dev.Length != 2) return null;
        var hex = NumberStyles.HexNumber;
        var inv = CultureInfo.InvariantCulture;
        if (!ulong.TryParse(range[0], hex, inv, out ulong s) || !ulong.TryParse(range[1], hex, inv, out ulong e)
            || !ulong.TryParse(f[2], hex, inv, out ulong off) || !uint.TryParse(dev[0], hex, inv, out uint major)
            || !uint.TryParse(dev[1], hex, inv, out uint minor) || !ulong.TryParse(f[4], NumberStyles.None, inv, out ulong ino))
            return null;
        return new MapsVma(s, e, f[1], off, major, minor, ino, f.Length > 5 ? f[5].Trim() : "");
    }
}

/// <summary>Reads what the live kernel publishes: /proc/vmstat, /proc/meminfo, /proc/PID/smaps, THP sysfs counters.</summary>
public static class LiveProcfs
{
    /// <summary>Folds the per-CPU counter deltas so vmstat and meminfo are current (needs root).</summary>
    public static void RefreshStats()
    {
        try { File.WriteAllText("/proc/sys/vm/stat_refresh", "1"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The process's (minflt, majflt): fields 10 and 12 of /proc/PID/stat, counted after the ')' that ends the command name.</summary>
    /// <summary>Whether the process still runs (not gone, not a zombie whose memory is freed).</summary>
    public static bool Alive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            char state = stat[stat.LastIndexOf(')') + 2];
            return state is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>Waits up to 2 s for a process that stopped answering to finish exiting; whether it did.</summary>
    public static bool WaitGone(int pid)
    {
        for (int i = 0; i < 100; i++)
        {
            if (!Alive(pid)) return true;
            Thread.Sleep(20);
        }
        return false;
    }

    public static (long Minflt, long Majflt) FaultCounts(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // f[0] is field 3 (state): field N is f[N - 3].
        return (long.Parse(f[7], CultureInfo.InvariantCulture), long.Parse(f[9], CultureInfo.InvariantCulture));
    }

    public static Dictionary<string, long> Vmstat() =>
        File.ReadAllLines("/proc/vmstat").Select(l => l.Split(' ')).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));

    /// <summary>
    /// /proc/meminfo, with MemFree counting the pages on the per-CPU free lists too: the kernel
    /// leaves them out, so MemFree jumps in whole-list steps as they fill and drain; the model has no
    /// such lists.
    /// </summary>
    public static Dictionary<string, long> Meminfo()
    {
        var d = RawMeminfo();
        d["MemFree"] = d.GetValueOrDefault("MemFree") + PerCpuFreePages() * (Environment.SystemPageSize >> 10);
        return d;
    }

    /// <summary>Pages on the per-CPU free lists: the "count:" lines of /proc/zoneinfo's pagesets.</summary>
    static long PerCpuFreePages() =>
        File.ReadAllLines("/proc/zoneinfo").Select(l => l.Trim()).Where(l => l.StartsWith("count:", StringComparison.Ordinal))
            .Sum(l => long.Parse(l["count:".Length..].Trim(), CultureInfo.InvariantCulture));

    /// <summary>
    /// Frees the huge zero folio if nobody maps it (it is freed only by its shrinker; dropping slab
    /// caches runs that), so that a scenario observing thp_zero_page_alloc sees its first allocation.
    /// </summary>
    public static void FreeHugeZeroPage()
    {
        try { File.WriteAllText("/proc/sys/vm/drop_caches", "2"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    static Dictionary<string, long> RawMeminfo()
    {
        var d = new Dictionary<string, long>();
        foreach (var l in File.ReadAllLines("/proc/meminfo"))
        {
            int c = l.IndexOf(':');
            if (c < 0) continue;
            var v = l[(c + 1)..].Trim().Split(' ')[0];
            if (long.TryParse(v, CultureInfo.InvariantCulture, out long n)) d[l[..c]] = n;
        }
        return d;
    }

    public static List<MapsVma> Maps(int pid) =>
        File.ReadAllLines($"/proc/{pid}/maps").Select(MapsVma.Parse).OfType<MapsVma>().ToList();

    /// <summary>
    /// A stat(2) st_dev as glibc encodes it, split into the major:minor that /proc/PID/maps prints
    /// (gnu_dev_major/gnu_dev_minor).
    /// </summary>
    public static (uint Major, uint Minor) DevParts(ulong dev) =>
        ((uint)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffUL)), (uint)((dev & 0xff) | ((dev >> 12) & ~0xffUL)));

    public static List<SmapsVma> Smaps(int pid)
    {
        var result = new List<SmapsVma>();
        SmapsVma? cur = null;
        foreach (var line in File.ReadAllLines($"/proc/{pid}/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong s)
                && ulong.TryParse(line[(dash + 1)..space], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong e))
            {
                string perms = line[(space + 1)..].Split(' ', 2)[0];
                cur = new SmapsVma(s, e, new Dictionary<string, long>(), "", perms);
                result.Add(cur);
                continue;
            }
            if (cur == null) continue;
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string name = line[..colon];
            string rest = line[(colon + 1)..].Trim();
            if (name == "VmFlags") { result[^1] = cur = cur with { VmFlags = rest }; continue; }
            if (long.TryParse(rest.Split(' ')[0], CultureInfo.InvariantCulture, out long v)) cur.Fields[name] = v;
        }
        return result;
    }

    /// <summary>Every per-size stats counter and the khugepaged counters, keyed by their path under the THP root.</summary>
    public static Dictionary<string, long> ThpCounters(string root = Settings.LiveSettings.Root)
    {
        var d = new Dictionary<string, long>();
        foreach (var dir in Directory.EnumerateDirectories(root, "hugepages-*"))
            foreach (var f in Directory.EnumerateFiles(Path.Combine(dir, "stats")))
                d[$"{Path.GetFileName(dir)}/stats/{Path.GetFileName(f)}"] = long.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture);
        foreach (var k in new[] { "khugepaged/pages_collapsed", "khugepaged/full_scans" })
            d[k] = long.Parse(File.ReadAllText(Path.Combine(root, k)).Trim(), CultureInfo.InvariantCulture);
        return d;
    }
}
