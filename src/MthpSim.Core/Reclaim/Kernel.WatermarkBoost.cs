using MthpSim.Core.PageAlloc;

namespace MthpSim.Core;

// mm/page_alloc.c and mm/vmscan.c: watermark boosting after a fallback, and the kswapd pass it asks for.
public sealed partial class Kernel
{
    /// <summary>vm.watermark_boost_factor, in ten-thousandths of the high watermark (0: no boosting).</summary>
    public int WatermarkBoostFactor { get; private set; } = 15000;

    /// <summary>models the sysctl's proc_dointvec_minmax: 0 or more, else -EINVAL.</summary>
    long SetWatermarkBoostFactor(long value)
    {
        if (value < 0 || value > int.MaxValue) return -Errno.EINVAL;
        WatermarkBoostFactor = (int)value;
        return 0;
    }

    /// <summary>zone->watermark_boost in pages.</summary>
    long _watermarkBoost;
    /// <summary>ZONE_BOOSTED_WATERMARK: an allocation that may wake kswapd boosted the watermarks.</summary>
    bool _boostedWakesKswapd;

    /// <summary>
    /// models boost_watermark() for each attempt to claim part of another type's pageblock: the
    /// boost grows by a pageblock, up to watermark_boost_factor (1.5 by default) times the high
    /// watermark (at least a pageblock); none on a zone of fewer than four pageblocks. An allocation that may wake kswapd
    /// (__GFP_KSWAPD_RECLAIM) has it woken (rmqueue()).
    /// </summary>
    void BoostWatermark(Gfp gfp)
    {
        int attempts = Buddy.PartialClaims;
        Buddy.PartialClaims = 0;
        if (WatermarkBoostFactor == 0 || Buddy.PageblockPages * 4L > Buddy.TotalPages) return;
        long maxBoost = Math.Max(Buddy.PageblockPages, WatermarkPages().High * WatermarkBoostFactor / 10000);
        _watermarkBoost = Math.Min(_watermarkBoost + (long)attempts * Buddy.PageblockPages, maxBoost);
        if ((gfp & Gfp.KswapdReclaim) != 0) _boostedWakesKswapd = true;
    }

    /// <summary>
    /// models balance_pgdat() for a boosted zone: kswapd reclaims about the boost without writing
    /// or swapping (clean page cache only, here age pagecache), drops the boost, and wakes kcompactd
    /// for a pageblock, so that later allocations find whole blocks of their type.
    /// </summary>
    void KswapdBoostReclaim()
    {
        using var cost = ChargeTo(null, Cost.CostOp.Reclaim);
        if (!_boostedWakesKswapd) return;
        _boostedWakesKswapd = false;
        if (NrFileCachePages > 0) DropFileCache(Math.Min(_watermarkBoost, NrFileCachePages));
        _watermarkBoost = 0;
        WakeupKcompactd(Buddy.PageblockOrder);
    }
}
