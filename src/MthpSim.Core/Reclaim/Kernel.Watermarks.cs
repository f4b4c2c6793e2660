namespace MthpSim.Core;

// mm/page_alloc.c and mm/khugepaged.c: vm.min_free_kbytes and the zone watermarks built on it.
public sealed partial class Kernel
{
    /// <summary>MIGRATE_PCPTYPES: unmovable, movable, reclaimable.</summary>
    const int MigratePcptypes = 3;

    /// <summary>min_free_kbytes (null only while the machine boots).</summary>
    long? _minFreeKbytes;
    /// <summary>user_min_free_kbytes: the last value written to the sysctl, -1 if none.</summary>
    long _userMinFreeKbytes = -1;
    /// <summary>The watermarks of the one zone in pages; min is -1 after min_free_kbytes or the scale factor changed.</summary>
    long _wmarkMin = -1, _wmarkLow, _wmarkHigh;
    /// <summary>vm.watermark_scale_factor, in ten-thousandths of memory.</summary>
    int _watermarkScaleFactor = 10;

    /// <summary>vm.min_free_kbytes.</summary>
    public long MinFreeKbytes => _minFreeKbytes!.Value;

    /// <summary>
    /// The zone's min, low and high watermarks in pages (__setup_per_zone_wmarks()): min is
    /// min_free_kbytes; low and high a quarter of min, or watermark_scale_factor (0.1 % by default) of
    /// memory, above it and above each other.
    /// </summary>
    public (long Min, long Low, long High) WatermarkPages()
    {
        if (_wmarkMin < 0)
        {
            long min = MinFreeKbytes / (Geo.PageSize >> 10);
            long step = Math.Max(min / 4, Buddy.TotalPages * _watermarkScaleFactor / 10000);
            (_wmarkMin, _wmarkLow, _wmarkHigh) = (min, min + step, min + 2 * step);
        }
        return (_wmarkMin, _wmarkLow, _wmarkHigh);
    }

    /// <summary>The low watermark, read on every allocation's fast path.</summary>
    long WmarkLow => _wmarkMin >= 0 ? _wmarkLow : WatermarkPages().Low;

    /// <summary>models init_per_zone_wmark_min(): calculate_min_free_kbytes(), then khugepaged_min_free_kbytes_update().</summary>
    void InitPerZoneWmarkMin()
    {
        CalculateMinFreeKbytes();
        SetRecommendedMinFreeKbytes();
    }

    /// <summary>models calculate_min_free_kbytes(): sqrt(16 × low memory in kB), within [128 kB, 256 MB], unless the user's value is larger.</summary>
    void CalculateMinFreeKbytes()
    {
        long lowmemKb = NrFreeBufferPages() * (Geo.PageSize >> 10);
        long v = (long)Math.Sqrt(lowmemKb * 16.0);
        if (v > _userMinFreeKbytes) _minFreeKbytes = Math.Clamp(v, 128, 262144);
        SetupPerZoneWmarks();
    }

    /// <summary>
    /// models set_recommended_min_free_kbytes(), which start_stop_khugepaged() runs after every write
    /// to an enabled or shmem_enabled setting: with PMD-sized THPs enabled, min_free_kbytes rises to
    /// keep two pageblocks free, and two per pair of the three mobility types, in each zone (the
    /// model has one), at most 5 % of memory; with them disabled it goes back to the calculated one.
    /// </summary>
    void SetRecommendedMinFreeKbytes()
    {
        if (!HugepagePmdEnabled())
        {
            CalculateMinFreeKbytes();
            return;
        }
        long pageblock = Buddy.PageblockPages, nrZones = 1;
        long recommended = pageblock * nrZones * 2 + pageblock * nrZones * MigratePcptypes * MigratePcptypes;
        recommended = Math.Min(recommended, NrFreeBufferPages() / 20) * (Geo.PageSize >> 10);
        if (recommended > (_minFreeKbytes ?? 0)) _minFreeKbytes = recommended;
        SetupPerZoneWmarks();
    }

    /// <summary>start_stop_khugepaged()'s part in the watermarks, after a THP setting changed.</summary>
    void ThpEnabledChanged() => SetRecommendedMinFreeKbytes();

    /// <summary>models nr_free_buffer_pages(): the zone's pages above its high watermark (all of them at boot, before there is one).</summary>
    long NrFreeBufferPages() => Buddy.TotalPages - (_minFreeKbytes == null ? 0 : WatermarkPages().High);

    /// <summary>models min_free_kbytes_sysctl_handler(): 0 or more (else -EINVAL), kept as the user's value.</summary>
    long SetMinFreeKbytes(long value)
    {
        if (value < 0 || value > int.MaxValue) return -Errno.EINVAL;
        _minFreeKbytes = value;
        _userMinFreeKbytes = value;
        SetupPerZoneWmarks();
        return 0;
    }

    /// <summary>models watermark_scale_factor_sysctl_handler(): 1 to 3000, else -EINVAL.</summary>
    long SetWatermarkScaleFactor(long value)
    {
        if (value < 1 || value > 3000) return -Errno.EINVAL;
        _watermarkScaleFactor = (int)value;
        SetupPerZoneWmarks();
        return 0;
    }

    /// <summary>models setup_per_zone_wmarks(): the watermarks are computed anew (when next read), and the boost is dropped.</summary>
    void SetupPerZoneWmarks()
    {
        _wmarkMin = -1;
        _watermarkBoost = 0;
    }
}
