using System.Globalization;
using System.Text;
using MthpSim.Core;

namespace MthpSim.Scenario.Fuzz;

/// <summary>How often one kind of statement ran, succeeded, and returned each errno.</summary>
public sealed class StatementTally
{
    public long Runs, Succeeded;
    public SortedDictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// What random testing actually exercised: per kind of statement, successes and errnos; and how
/// often the outcomes worth reaching happened (folio orders allocated, splits, COW reuse and copy,
/// collapses per order), summed over episodes.
/// </summary>
public sealed class FuzzTally
{
    /// <summary>Generated statements run (prologue and closing checks not counted).</summary>
    public long Ops;
    public SortedDictionary<string, StatementTally> Statements { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, long> Coverage { get; } = new(StringComparer.Ordinal);

    // Statements that set no return code.
    static readonly HashSet<string> NoRc = ["exit", "policy", "sleep", "expect", "print", "process", "machine"];
    static readonly HashSet<string> Global = ["sysfs", "policy", "reclaim", "age", "compact", "sysctl", "khugepaged", "sleep", "expect", "print", "machine", "process",
        "memfd", "tmpfs", "file", "ftruncate", "pwrite", "pread", "lseek"];

    /// <summary>The kind a statement is counted under: its verb, with madvise's advice.</summary>
    public static string KindOf(string line)
    {
        var w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (w[0] == "fallocate" && w.Length > 2) return $"fallocate {w[2]}";
        if (w[0] == "cgroup") return w.Length > 2 ? $"cgroup {w[2].Split('=')[0]}" : "cgroup";
        if (Global.Contains(w[0])) return w[0];
        if (w[1] == "uffd" && w.Length > 2) return $"uffd {w[2]}";
        return w[1] == "madvise" && w.Length > 5 ? $"madvise {w[5]}" : w[1];
    }

    public void Count(string line, long rc)
    {
        string kind = KindOf(line);
        if (!Statements.TryGetValue(kind, out var t)) Statements[kind] = t = new StatementTally();
        t.Runs++;
        if (NoRc.Contains(kind.Split(' ')[0]) || rc >= 0) t.Succeeded++;
        else
        {
            string errno = "-" + Errno.Name(rc).TrimStart('-');
            t.Errors[errno] = t.Errors.GetValueOrDefault(errno) + 1;
        }
    }

    /// <summary>Adds what one machine did by the end of its episode.</summary>
    public void Cover(Kernel k)
    {
        if (k.Geo.ContPtes > 0)
        {
            // the contiguous bit, per geometry: set by set_ptes(), folded and unfolded in place
            string arm = $"arm64 {k.Geo.PageSize >> 10}K pages:";
            Add($"{arm} contpte set", k.Paths.ContSet);
            Add($"{arm} contpte fold", k.Paths.ContFold);
            Add($"{arm} contpte unfold", k.Paths.ContUnfold);
        }
        if (k.Geo.PageSize != 4096) { CoverOtherGeometry(k); return; }
        long pageKb = k.Geo.PageSize >> 10;
        for (int order = 2; order <= k.Geo.PmdOrder; order++)
            if (k.SysfsRead($"hugepages-{pageKb << order}kB/stats/anon_fault_alloc") is string n)
                Add($"fault alloc order {order}", long.Parse(n, CultureInfo.InvariantCulture));
        for (int order = 2; order <= k.Geo.PmdOrder; order++) Add($"collapse order {order}", k.CollapseMetrics.Collapses[order]);
        Add("PMD split", k.Vmstat("thp_split_pmd") ?? 0);
        Add("folio split", k.Vmstat("thp_split_page") ?? 0);
        Add("deferred split", k.Vmstat("thp_deferred_split_page") ?? 0);
        Add("underused split", k.Vmstat("thp_underused_split_page") ?? 0);
        Add("lazyfree discarded", k.Vmstat("pglazyfreed") ?? 0);
        Add("huge zero page", k.Vmstat("thp_zero_page_alloc") ?? 0);
        for (int order = 1; order <= k.Geo.PmdOrder; order++)
            if (k.SysfsRead($"hugepages-{pageKb << order}kB/stats/shmem_alloc") is string n)
                Add($"shmem alloc order {order}", long.Parse(n, CultureInfo.InvariantCulture));
        Add("shmem PMD mapped", k.Vmstat("thp_file_mapped") ?? 0);
        Add("shmem collapse", k.CollapseMetrics.FileCollapses);
        for (int order = 1; order <= k.Geo.PmdOrder; order++)
        {
            Add("large swpout", k.Stats.Get(order, Core.Stats.MthpStat.Swpout));
            Add("large swpin", k.Stats.Get(order, Core.Stats.MthpStat.Swpin));
            Add("swpout fallback", k.Stats.Get(order, Core.Stats.MthpStat.SwpoutFallback));
        }
        Add("PMD swpout", k.Vmstat("thp_swpout") ?? 0);
        Add("swap-in", k.Vmstat("pswpin") ?? 0);
        Add("zero swpout", k.Vmstat("swpout_zero") ?? 0);
        Add("swap read-ahead", k.Vmstat("swap_ra") ?? 0);
        Add("swap cache hit", k.Vmstat("swap_ra_hit") ?? 0);
        Add("LRU reclaimed (pgsteal_anon)", k.Vmstat("pgsteal_anon") ?? 0);
        Add("LRU activated", k.Vmstat("pgactivate") ?? 0);
        Add("LRU deactivated", k.Vmstat("pgdeactivate") ?? 0);
        Add("shmem swapped out", k.Paths.ShmemSwapout);
        Add("shmem swapped in", k.Paths.ShmemSwapin);
        Add("clean shmem dropped", k.Paths.ShmemCleanDropped);
        Add("COW reuse", k.Paths.WpReuse);
        Add("COW copy", k.Paths.WpCopy);
        Add("uffd missing fault", k.Paths.UffdMissing);
        Add("uffd wp fault", k.Paths.UffdWp);
        Add("uffd minor fault", k.Paths.UffdMinor);
        long charge = 0;
        for (int order = 2; order <= k.Geo.PmdOrder; order++) charge += k.Stats.Get(order, Core.Stats.MthpStat.AnonFaultFallbackCharge);
        Add("fallback charge", charge);
        Add("OOM kill", k.Vmstat("oom_kill") ?? 0);
        Add("pages migrated", k.Vmstat("pgmigrate_success") ?? 0);
        Add("direct compaction success", k.Vmstat("compact_success") ?? 0);
        Add("direct compaction fail", k.Vmstat("compact_fail") ?? 0);
        Add("kcompactd run", k.Vmstat("compact_daemon_wake") ?? 0);
        Add("kcompactd scanned", k.Vmstat("compact_daemon_migrate_scanned") ?? 0);
    }

    /// <summary>
    /// An arm64 machine with 16K or 64K pages: what matters is that its geometry reaches each kind of
    /// large folio (orders differ from 4K's), so its outcomes are counted apart and per kind.
    /// </summary>
    void CoverOtherGeometry(Kernel k)
    {
        string g = $"{k.Geo.PageSize >> 10}K pages:";
        long mthp = 0, pmd = k.Stats.Get(k.Geo.PmdOrder, Core.Stats.MthpStat.AnonFaultAlloc), collapses = 0, swpout = 0, shmem = 0;
        for (int order = 2; order < k.Geo.PmdOrder; order++) mthp += k.Stats.Get(order, Core.Stats.MthpStat.AnonFaultAlloc);
        for (int order = 1; order <= k.Geo.PmdOrder; order++)
        {
            collapses += k.CollapseMetrics.Collapses[order];
            swpout += k.Stats.Get(order, Core.Stats.MthpStat.Swpout);
            shmem += k.Stats.Get(order, Core.Stats.MthpStat.ShmemAlloc);
        }
        Add($"{g} mTHP fault alloc", mthp);
        Add($"{g} PMD fault alloc", pmd);
        Add($"{g} collapse", collapses);
        Add($"{g} PMD split", k.Vmstat("thp_split_pmd") ?? 0);
        Add($"{g} large swpout", swpout);
        Add($"{g} swap-in", k.Vmstat("pswpin") ?? 0);
        Add($"{g} large shmem alloc", shmem);
    }

    void Add(string what, long n) => Coverage[what] = Coverage.GetValueOrDefault(what) + n;

    public void Merge(FuzzTally other)
    {
        Ops += other.Ops;
        foreach (var (kind, t) in other.Statements)
        {
            if (!Statements.TryGetValue(kind, out var mine)) Statements[kind] = mine = new StatementTally();
            mine.Runs += t.Runs;
            mine.Succeeded += t.Succeeded;
            foreach (var (e, n) in t.Errors) mine.Errors[e] = mine.Errors.GetValueOrDefault(e) + n;
        }
        foreach (var (what, n) in other.Coverage) Add(what, n);
    }

    /// <summary>The statement table and the outcomes reached, as plain text.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"statement",-24} {"runs",9} {"succeeded",10} {"share",6}  errors");
        foreach (var (kind, t) in Statements)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{kind,-24} {t.Runs,9} {t.Succeeded,10} {100.0 * t.Succeeded / t.Runs,5:F1}%  {string.Join(", ", t.Errors.Select(e => $"{e.Key} {e.Value}"))}");
        sb.AppendLine("outcomes reached:");
        foreach (var (what, n) in Coverage) sb.AppendLine(CultureInfo.InvariantCulture, $"  {what,-22} {n,10}");
        return sb.ToString();
    }
}
