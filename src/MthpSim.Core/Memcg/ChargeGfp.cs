namespace MthpSim.Core.Memcg;

/// <summary>What a charge's gfp mask lets try_charge_memcg() do when the limit is hit.</summary>
[Flags]
public enum ChargeGfp
{
    /// <summary>No direct reclaim (GFP_TRANSHUGE_LIGHT): fail at once.</summary>
    NoReclaim = 0,
    /// <summary>__GFP_DIRECT_RECLAIM: reclaim inside the group, then retry.</summary>
    Reclaim = 1,
    /// <summary>__GFP_NORETRY: one round of reclaim, no retries, no OOM kill.</summary>
    NoRetry = 2,
    /// <summary>__GFP_HIGH: where the charge would fail, it is forced past the limit instead.</summary>
    High = 4,
    /// <summary>GFP_KERNEL / GFP_HIGHUSER_MOVABLE: reclaim, retry, and for small orders the OOM killer.</summary>
    Kernel = Reclaim,
    /// <summary>GFP_ATOMIC: no reclaim, and over the limit a forced charge.</summary>
    Atomic = High,
}
