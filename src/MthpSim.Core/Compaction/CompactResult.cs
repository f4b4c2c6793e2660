namespace MthpSim.Core.Compaction;

/// <summary>enum compact_result, in the kernel's order (callers take the max over zones).</summary>
public enum CompactResult
{
    NotSuitableZone,
    /// <summary>Not tried: too little free memory for compaction to help, or compaction not allowed.</summary>
    Skipped,
    /// <summary>Not tried: recent failures at this order (defer_compaction()).</summary>
    Deferred,
    NoSuitablePage,
    Continue,
    /// <summary>The scanners met after a scan of the whole zone, without a free block of the order.</summary>
    Complete,
    /// <summary>The scanners met after a scan that started from cached positions.</summary>
    PartialSkipped,
    /// <summary>Stopped early: migration ran out of free target pages.</summary>
    Contended,
    /// <summary>A free block of the order exists.</summary>
    Success,
}
