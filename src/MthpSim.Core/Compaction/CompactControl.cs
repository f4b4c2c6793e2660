using MthpSim.Core.PageAlloc;

namespace MthpSim.Core.Compaction;

/// <summary>struct compact_control: one run of compact_zone() and what its scanners hold.</summary>
internal sealed class CompactControl
{
    /// <summary>The order wanted; -1 to compact the whole zone (compact_memory, proactive compaction).</summary>
    public int Order;
    public MigrateType Migratetype;
    public MigrateMode Mode;
    /// <summary>In the allocating task (not kcompactd, not compact_memory).</summary>
    public bool Direct;
    public bool WholeZone, IgnoreSkipHint, IgnoreBlockSuitable;
    /// <summary>Proactive compaction: runs until the fragmentation score drops to the low mark.</summary>
    public bool Proactive;
    public long MigratePfn, FreePfn;
    public long MigrateScanned, FreeScanned;
    /// <summary>Free pages the free scanner isolated (cc->freepages[order]), as head PFNs per order.</summary>
    public readonly List<int>[] FreePages;
    public long NrFreePages;

    public CompactControl(int maxOrder)
    {
        FreePages = new List<int>[maxOrder + 1];
        for (int i = 0; i <= maxOrder; i++) FreePages[i] = new List<int>();
    }
}
