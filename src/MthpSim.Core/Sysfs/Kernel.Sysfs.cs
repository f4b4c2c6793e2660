using MthpSim.Core.Stats;
using MthpSim.Core.Sysfs;
using MthpSim.Core.Thp;

namespace MthpSim.Core;

// /sys/kernel/mm/transparent_hugepage: show/store functions of mm/huge_memory.c, mm/shmem.c, mm/khugepaged.c.
public sealed partial class Kernel
{
    static readonly string[] EnabledWords = ["always", "madvise", "never"];
    static readonly string[] DefragWords = ["always", "defer", "defer+madvise", "madvise", "never"];
    static readonly string[] ShmemWords = ["always", "within_size", "advise", "never", "deny", "force"];
    static readonly string[] AnonSizeWords = ["always", "inherit", "madvise", "never"];
    static readonly string[] ShmemSizeWords = ["always", "inherit", "within_size", "advise", "never"];

    /// <summary>Per-size stats files: those every size has, then anon-only and shmem-only ones.</summary>
    static readonly MthpStat[] AnyStats =
        [MthpStat.Split, MthpStat.SplitFailed, MthpStat.Swpin, MthpStat.SwpinFallback, MthpStat.SwpinFallbackCharge,
         MthpStat.Swpout, MthpStat.SwpoutFallback, MthpStat.Zswpout];
    static readonly MthpStat[] AnonStats =
        [MthpStat.AnonFaultAlloc, MthpStat.AnonFaultFallback, MthpStat.AnonFaultFallbackCharge,
         MthpStat.NrAnon, MthpStat.NrAnonPartiallyMapped, MthpStat.SplitDeferred];
    static readonly MthpStat[] ShmemStats = [MthpStat.ShmemAlloc, MthpStat.ShmemFallback, MthpStat.ShmemFallbackCharge];

    /// <summary>khugepaged counters, maintained by khugepaged once it is modelled.</summary>
    public long KhugepagedPagesCollapsed { get; internal set; }
    public long KhugepagedFullScans { get; internal set; }

    /// <summary>Name of a per-size directory: hugepages-&lt;size&gt;kB.</summary>
    public string SizeDir(int order) => $"hugepages-{Geo.SizeOfOrderKb(order)}kB";

    /// <summary>Every file of the tree, in a stable order: settings first, then per-size files and stats.</summary>
    public IEnumerable<string> SysfsFiles(bool includeStats = true)
    {
        foreach (var f in new[] { "enabled", "defrag", "use_zero_page", "hpage_pmd_size", "shrink_underused", "shmem_enabled",
            "khugepaged/defrag", "khugepaged/pages_to_scan", "khugepaged/scan_sleep_millisecs", "khugepaged/alloc_sleep_millisecs",
            "khugepaged/max_ptes_none", "khugepaged/max_ptes_swap", "khugepaged/max_ptes_shared",
            "khugepaged/pages_collapsed", "khugepaged/full_scans" })
            yield return f;
        for (int o = 1; o <= Geo.PmdOrder; o++)
        {
            if (!HasSizeDir(o)) continue;
            if (IsAnonOrder(o)) yield return $"{SizeDir(o)}/enabled";
            if (IsFileOrder(o)) yield return $"{SizeDir(o)}/shmem_enabled";
            if (!includeStats) continue;
            foreach (var s in StatsOf(o).OrderBy(StatNames.Of, StringComparer.Ordinal))
                yield return $"{SizeDir(o)}/stats/{StatNames.Of(s)}";
        }
    }

    bool IsAnonOrder(int o) => (Geo.AnonOrders & (1UL << o)) != 0;
    bool IsFileOrder(int o) => (Geo.FileOrders & (1UL << o)) != 0;
    bool HasSizeDir(int o) => IsAnonOrder(o) || IsFileOrder(o);

    IEnumerable<MthpStat> StatsOf(int o)
    {
        var list = new List<MthpStat>(AnyStats);
        if (IsAnonOrder(o)) list.AddRange(AnonStats);
        if (IsFileOrder(o)) list.AddRange(ShmemStats);
        if (_collapsePolicy.HasCollapseStats)
        {
            // The upstream mTHP collapse series adds these (collapse_alloc* in the "any" group).
            list.AddRange([MthpStat.CollapseAlloc, MthpStat.CollapseAllocFailed]);
            if (IsAnonOrder(o)) list.AddRange([MthpStat.CollapseExceedNonePte, MthpStat.CollapseExceedSwapPte, MthpStat.CollapseExceedSharedPte]);
        }
        // Dev Jain's per-order RFC adds these to the anonymous group.
        if (_collapsePolicy.HasAnonCollapseAllocStats && IsAnonOrder(o)) list.AddRange([MthpStat.AnonCollapseAlloc, MthpStat.AnonCollapseAllocFailed]);
        return list;
    }

    bool TryParseSizeDir(string dir, out int order)
    {
        order = -1;
        for (int o = 1; o <= Geo.PmdOrder; o++)
            if (HasSizeDir(o) && SizeDir(o) == dir) { order = o; return true; }
        return false;
    }

    /// <summary>Reads a file as `cat` would (without the trailing newline); null when it does not exist.</summary>
    public string? SysfsRead(string path)
    {
        string Num(long v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        switch (path)
        {
            case "enabled": return SysfsParse.Choice(EnabledWords, (int)Thp.Enabled);
            case "defrag": return SysfsParse.Choice(DefragWords, (int)Thp.Defrag);
            case "use_zero_page": return Thp.UseZeroPage ? "1" : "0";
            case "hpage_pmd_size": return Num(Geo.PmdSize);
            case "shrink_underused": return Thp.ShrinkUnderused ? "1" : "0";
            case "shmem_enabled": return SysfsParse.Choice(ShmemWords, (int)Thp.ShmemEnabled);
            case "khugepaged/defrag": return Num(Thp.KhugepagedDefrag);
            case "khugepaged/pages_to_scan": return Num(Thp.PagesToScan);
            case "khugepaged/scan_sleep_millisecs": return Num(Thp.ScanSleepMillisecs);
            case "khugepaged/alloc_sleep_millisecs": return Num(Thp.AllocSleepMillisecs);
            case "khugepaged/max_ptes_none": return Num(Thp.MaxPtesNone);
            case "khugepaged/max_ptes_swap": return Num(Thp.MaxPtesSwap);
            case "khugepaged/max_ptes_shared": return Num(Thp.MaxPtesShared);
            case "khugepaged/pages_collapsed": return Num(KhugepagedPagesCollapsed);
            case "khugepaged/full_scans": return Num(KhugepagedFullScans);
        }
        var parts = path.Split('/');
        if (parts.Length < 2 || !TryParseSizeDir(parts[0], out int order)) return null;
        if (parts.Length == 2 && parts[1] == "enabled" && IsAnonOrder(order))
            return SysfsParse.Choice(AnonSizeWords, (int)Thp.AnonSetting(order));
        if (parts.Length == 2 && parts[1] == "shmem_enabled" && IsFileOrder(order))
            return SysfsParse.Choice(ShmemSizeWords, (int)Thp.ShmemSetting(order));
        if (parts.Length == 3 && parts[1] == "stats" && StatNames.TryMthpStat(parts[2], out var stat) && StatsOf(order).Contains(stat))
            return Num(Stats.Get(order, stat));
        return null;
    }

    /// <summary>Writes a value as the file's store function would: 0, or the negative errno it refuses with.</summary>
    public long SysfsWrite(string path, string value)
    {
        long rc = SysfsStore(path, value);
        bool started = false;
        if (rc == 0 && path.EndsWith("enabled", StringComparison.Ordinal))
        {
            // start_stop_khugepaged(), after every write to an enabled or shmem_enabled file
            started = KhugepagedSettingsChanged(sleepTimes: false);
            ThpEnabledChanged();
        }
        if (rc == 0 && path is "khugepaged/scan_sleep_millisecs" or "khugepaged/alloc_sleep_millisecs")
            KhugepagedSettingsChanged(sleepTimes: true);
        // A thread the write started makes its first round before it first sleeps: now, not at the next sleep.
        if (started) RunKhugepagedUntil(NowMs);
        return rc;
    }

    long SysfsStore(string path, string value)
    {
        if (SysfsRead(path) == null) return -Errno.ENOENT;
        int Choose(string[] words) => Array.FindIndex(words, w => SysfsParse.Streq(value, w));
        int rc;
        ulong v;
        switch (path)
        {
            case "enabled":
            {
                int i = Choose(EnabledWords);
                if (i < 0) return -Errno.EINVAL;
                Thp.Enabled = (ThpEnabled)i;
                return 0;
            }
            case "defrag":
            {
                int i = Choose(DefragWords);
                if (i < 0) return -Errno.EINVAL;
                Thp.Defrag = (ThpDefrag)i;
                return 0;
            }
            case "use_zero_page":
            case "khugepaged/defrag":
                // models single_hugepage_flag_store()
                rc = SysfsParse.KstrtoUlong(value, ulong.MaxValue, out v);
                if (rc < 0) return rc;
                if (v > 1) return -Errno.EINVAL;
                if (path == "use_zero_page") Thp.UseZeroPage = v == 1; else Thp.KhugepagedDefrag = (int)v;
                return 0;
            case "shrink_underused":
                rc = SysfsParse.Kstrtobool(value, out bool b);
                if (rc < 0) return rc;
                Thp.ShrinkUnderused = b;
                return 0;
            case "shmem_enabled":
            {
                int i = Choose(ShmemWords);
                if (i < 0) return -Errno.EINVAL;
                // shmem_enabled_store(): 'force' is refused unless the PMD size, and it alone,
                // inherits (measured live: also while the PMD size is set to always or never)
                if ((ShmemEnabled)i == ShmemEnabled.Force && Thp.ShmemInherit != 1UL << Geo.PmdOrder) return -Errno.EINVAL;
                Thp.ShmemEnabled = (ShmemEnabled)i;
                if (Thp.ShmemEnabled is not (ShmemEnabled.Force or ShmemEnabled.Deny))
                    Thp.InternalMountHuge = Thp.ShmemEnabled switch
                    {
                        ShmemEnabled.Always => Shmem.ShmemHuge.Always,
                        ShmemEnabled.WithinSize => Shmem.ShmemHuge.WithinSize,
                        ShmemEnabled.Advise => Shmem.ShmemHuge.Advise,
                        _ => Shmem.ShmemHuge.Never,
                    };
                return 0;
            }
            case "khugepaged/pages_to_scan":
                if (SysfsParse.KstrtoUlong(value, uint.MaxValue, out v) < 0 || v == 0) return -Errno.EINVAL;
                Thp.PagesToScan = (uint)v;
                return 0;
            case "khugepaged/scan_sleep_millisecs":
            case "khugepaged/alloc_sleep_millisecs":
                if (SysfsParse.KstrtoUlong(value, uint.MaxValue, out v) < 0) return -Errno.EINVAL;
                if (path.EndsWith("scan_sleep_millisecs")) Thp.ScanSleepMillisecs = (uint)v; else Thp.AllocSleepMillisecs = (uint)v;
                return 0;
            case "khugepaged/max_ptes_none":
            case "khugepaged/max_ptes_swap":
            case "khugepaged/max_ptes_shared":
                if (SysfsParse.KstrtoUlong(value, ulong.MaxValue, out v) < 0 || v > (ulong)Geo.PtrsPerPte - 1) return -Errno.EINVAL;
                if (path.EndsWith("none")) Thp.MaxPtesNone = (uint)v;
                else if (path.EndsWith("swap")) Thp.MaxPtesSwap = (uint)v;
                else Thp.MaxPtesShared = (uint)v;
                return 0;
            case "hpage_pmd_size":
            case "khugepaged/pages_collapsed":
            case "khugepaged/full_scans":
                return -Errno.EACCES;   // read-only: open(O_WRONLY) fails, even for root
        }
        var parts = path.Split('/');
        TryParseSizeDir(parts[0], out int order);
        if (parts.Length == 2 && parts[1] == "enabled")
        {
            // models anon_enabled_store()
            int i = Choose(AnonSizeWords);
            if (i < 0) return -Errno.EINVAL;
            Thp.SetAnon(order, (ThpEnabledPerSize)i);
            return 0;
        }
        if (parts.Length == 2 && parts[1] == "shmem_enabled")
        {
            // models thpsize_shmem_enabled_store()
            int i = Choose(ShmemSizeWords);
            if (i < 0) return -Errno.EINVAL;
            if ((ShmemSizeEnabled)i == ShmemSizeEnabled.Inherit && Thp.ShmemEnabled == ShmemEnabled.Force && order != Geo.PmdOrder)
                return -Errno.EINVAL;
            Thp.SetShmem(order, (ShmemSizeEnabled)i);
            return 0;
        }
        return -Errno.EACCES;   // stats files are read-only
    }
}
