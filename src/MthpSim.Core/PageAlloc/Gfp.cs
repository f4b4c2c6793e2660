namespace MthpSim.Core.PageAlloc;

/// <summary>
/// The bits of a gfp mask (include/linux/gfp_types.h) that decide what an allocation may do when no
/// free block fits; the migratetype comes from what is allocated. The low two bits have the values
/// of <see cref="Memcg.ChargeGfp"/>, which a charge with the same mask reads.
/// </summary>
[Flags]
public enum Gfp
{
    /// <summary>GFP_TRANSHUGE_LIGHT: neither reclaim bit; fail at once.</summary>
    None = 0,
    /// <summary>__GFP_DIRECT_RECLAIM: direct compaction (and reclaim) in the allocating task.</summary>
    DirectReclaim = 1,
    /// <summary>__GFP_NORETRY: one attempt of each, no retries.</summary>
    NoRetry = 2,
    /// <summary>__GFP_KSWAPD_RECLAIM: wake kswapd, or kcompactd when memory is free but fragmented.</summary>
    KswapdReclaim = 4,
    /// <summary>GFP_TRANSHUGE: direct reclaim, kswapd not woken.</summary>
    Transhuge = DirectReclaim,
    /// <summary>GFP_KERNEL and GFP_HIGHUSER_MOVABLE: both reclaim bits.</summary>
    Kernel = DirectReclaim | KswapdReclaim,
}
