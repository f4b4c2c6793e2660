using MthpSim.Core.Compaction;
using MthpSim.Core.PageAlloc;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// mm/compaction.c: kcompactd, proactive compaction and /proc/sys/vm/compact_memory.
public sealed partial class Kernel
{
    /// <summary>HPAGE_FRAG_CHECK_INTERVAL_MSEC: kcompactd's timeout between proactive checks.</summary>
    const int FragCheckIntervalMs = 500;

    /// <summary>vm.compaction_proactiveness (0 to 100; 0 turns proactive compaction off).</summary>
    public int CompactionProactiveness { get; private set; } = 20;

    /// <summary>kcompactd_max_order: the order a wake-up asked for, 0 when none is pending.</summary>
    int _kcompactdMaxOrder;
    /// <summary>When kcompactd's timeout next expires (virtual ms).</summary>
    long _kcompactdTimeoutAt = FragCheckIntervalMs;
    long _kcompactdTimeoutMs = FragCheckIntervalMs;

    /// <summary>The sysctls (/proc/sys, dots for slashes) the model has.</summary>
    public static readonly string[] Sysctls = ["vm.compaction_proactiveness", "vm.min_free_kbytes", "vm.watermark_boost_factor", "vm.watermark_scale_factor"];

    /// <summary>A write to a sysctl of <see cref="Sysctls"/>: rc 0, or -EINVAL for a value it refuses.</summary>
    public long SysctlWrite(string name, string value)
    {
        if (!long.TryParse(value.Trim(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long v))
            return -Errno.EINVAL;
        return name switch
        {
            "vm.compaction_proactiveness" => SetCompactionProactiveness(v),
            "vm.watermark_boost_factor" => SetWatermarkBoostFactor(v),
            "vm.min_free_kbytes" => SetMinFreeKbytes(v),
            "vm.watermark_scale_factor" => SetWatermarkScaleFactor(v),
            _ => throw new ArgumentException($"no sysctl {name}"),
        };
    }

    /// <summary>models proc_dointvec_minmax for vm.compaction_proactiveness: 0..100, else -EINVAL; a non-zero write triggers a proactive pass.</summary>
    public long SetCompactionProactiveness(long value)
    {
        if (value < 0 || value > 100) return -Errno.EINVAL;
        bool trigger = value != 0;
        CompactionProactiveness = (int)value;
        if (trigger) { _kcompactdTimeoutAt = NowMs; _kcompactdTimeoutMs = FragCheckIntervalMs; }
        return 0;
    }

    /// <summary>
    /// models wakeup_kswapd() for a failed allocation of ORDER: with memory free but fragmented, an
    /// allocation that will not compact itself wakes kcompactd; otherwise kswapd reclaims and wakes
    /// kcompactd when it goes back to sleep (kswapd_try_to_sleep()). Either way kcompactd runs when
    /// time next passes.
    /// </summary>
    void WakeupKswapd(int order, Gfp gfp)
    {
        var (_, _, high) = WatermarkPages();
        bool balanced = Buddy.WatermarkOk(order, high);
        if (balanced && (gfp & Gfp.DirectReclaim) != 0) return;
        WakeupKcompactd(order);
    }

    /// <summary>models wakeup_kcompactd(): only when compaction could do something for that order.</summary>
    void WakeupKcompactd(int order)
    {
        if (order == 0 || order <= _kcompactdMaxOrder) return;
        if (SuitAllocationOrder(order, async: false) != CompactResult.Continue) return;
        _kcompactdMaxOrder = order;
    }

    /// <summary>
    /// Runs kcompactd for the time up to UNTIL: the work a wake-up asked for at once, then a proactive
    /// check each time its timeout expires (kcompactd()).
    /// </summary>
    void RunKcompactd(long until)
    {
        if (_kcompactdMaxOrder > 0)
        {
            KcompactdDoWork();
            _kcompactdTimeoutAt = NowMs + FragCheckIntervalMs;
            _kcompactdTimeoutMs = FragCheckIntervalMs;
        }
        if (CompactionProactiveness == 0) return;   // MAX_SCHEDULE_TIMEOUT: sleeps until woken
        while (_kcompactdTimeoutAt <= until)
        {
            RunKhugepagedUntil(_kcompactdTimeoutAt);
            NowMs = Math.Max(NowMs, _kcompactdTimeoutAt);
            int before = FragmentationScore();
            if (before > ProactiveWmark(low: false)) ProactiveCompact();
            _kcompactdTimeoutMs = before > ProactiveWmark(low: false) && FragmentationScore() >= before
                ? FragCheckIntervalMs << CompactMaxDeferShift : FragCheckIntervalMs;
            _kcompactdTimeoutAt = NowMs + _kcompactdTimeoutMs;
        }
    }

    /// <summary>models kcompactd_do_work(): a sync-light compaction for the order asked, as an unmovable (GFP_KERNEL) request.</summary>
    void KcompactdDoWork()
    {
        int order = _kcompactdMaxOrder;
        _kcompactdMaxOrder = 0;
        Stats.Count(VmEvent.CompactDaemonWake);
        if (CompactionDeferred(order) || SuitAllocationOrder(order, async: false) != CompactResult.Continue) return;
        var cc = new CompactControl(Buddy.MaxOrder) { Order = order, Migratetype = MigrateType.Unmovable, Mode = MigrateMode.SyncLight };
        var status = CompactDaemonZone(cc);
        if (status == CompactResult.Success) CompactionDeferReset(order, allocSuccess: false);
        else if (status is CompactResult.PartialSkipped or CompactResult.Complete) DeferCompaction(order);
    }

    /// <summary>models proactive_compact_node(): the whole zone, until the fragmentation score is down to the low mark.</summary>
    void ProactiveCompact() => CompactDaemonZone(new CompactControl(Buddy.MaxOrder)
    {
        Order = -1, Migratetype = MigrateType.Unmovable, Mode = MigrateMode.SyncLight, Proactive = true,
        WholeZone = true, IgnoreSkipHint = true,
    });

    CompactResult CompactDaemonZone(CompactControl cc)
    {
        var status = CompactZone(cc);
        Stats.Count(VmEvent.CompactDaemonMigrateScanned, cc.MigrateScanned);
        Stats.Count(VmEvent.CompactDaemonFreeScanned, cc.FreeScanned);
        return status;
    }

    /// <summary>
    /// models sysctl_compaction_handler() (a write to /proc/sys/vm/compact_memory): the whole zone,
    /// MIGRATE_SYNC, every folio below pageblock_order moved as far up as the free scanner reaches.
    /// </summary>
    public void CompactMemory() => CompactZone(new CompactControl(Buddy.MaxOrder)
    {
        Order = -1, Migratetype = MigrateType.Unmovable, Mode = MigrateMode.Sync, WholeZone = true, IgnoreSkipHint = true,
    });

    /// <summary>
    /// models fragmentation_score_node() for the one zone: the share of free memory (in %) not in
    /// free blocks of the PMD order or more, weighted by the zone's pages over the node's + 1.
    /// </summary>
    int FragmentationScore() => (int)(Buddy.TotalPages * FragmentationScoreZone() / (Buddy.TotalPages + 1));

    /// <summary>models fragmentation_score_zone() → extfrag_for_order(COMPACTION_HPAGE_ORDER).</summary>
    long FragmentationScoreZone()
    {
        long free = Buddy.FreePages;
        if (free == 0) return 0;
        return (free - Buddy.FreePagesInBlocksOf(Math.Min(Geo.PmdOrder, Buddy.MaxOrder))) * 100 / free;
    }

    /// <summary>models fragmentation_score_wmark(): low = 100 − proactiveness, high = low + min(10, low / 2).</summary>
    int ProactiveWmark(bool low)
    {
        int wmarkLow = 100 - CompactionProactiveness;
        return low ? wmarkLow : Math.Min(wmarkLow + Math.Min(10, wmarkLow / 2), 100);
    }
}
