namespace MthpSim.Core.Folio;

/// <summary>
/// The fields the kernel keeps in a large folio's tail pages (_entire_mapcount, _nr_pages_mapped,
/// _deferred_list, the anon rmap index). One slot per large folio, never per base page.
/// </summary>
public struct LargeFolioInfo
{
    /// <summary>Number of PMD mappings of the folio (folio_entire_mapcount()).</summary>
    public int EntireMapcount;
    /// <summary>Pages mapped by at least one PTE (the low bits of _nr_pages_mapped).</summary>
    public int NrPagesMapped;
    /// <summary>Deferred split queue links, as head PFNs; -1 at the ends.</summary>
    public int DeferredPrev, DeferredNext;
    /// <summary>Virtual page number the head page was first mapped at (folio->index for anon).</summary>
    public long AnonIndex;
    /// <summary>Anon_vma the folio belongs to (folio->mapping for anon).</summary>
    public int AnonVma;
    /// <summary>Every PTE and PMD mapping of the folio (folio_large_mapcount()).</summary>
    public int LargeMapcount;
    /// <summary>The two MM_ID slots (CONFIG_MM_ID): which mm holds how many of the mappings; 0 = free slot.</summary>
    public int MmId0, MmId1, MmCount0, MmCount1;
    /// <summary>FOLIO_MM_IDS_SHARED_BIT: the folio may be mapped by more than one mm (folio_maybe_mapped_shared()).</summary>
    public bool MaybeMappedShared;
    /// <summary>FOLL_PIN references (folio->_pincount); each also holds one refcount.</summary>
    public int Pincount;
}
