namespace MthpSim.Core.Folio;

/// <summary>
/// A <see cref="LargeFolioInfo"/> in 12 bytes, for folios of 4 and 8 pages whose tail pages have no
/// more room (the kernel, likewise, keeps an order-2 folio's fields in the few tail struct pages it
/// has). It holds the common case: mapped by PTEs of at most one mm, not pinned, not on the deferred
/// split queue. A record outside it is kept whole in the side table.
/// </summary>
/// <remarks>
/// Word: bit 31 clear (a side-table slot is stored negative), bits 0-23 the anon_vma, 24-27 the
/// pages mapped, 28 maybe-mapped-shared. Long: bits 0-35 the anon index, 36-43 the large mapcount,
/// 44-63 the mm in slot 0, whose count is then the large mapcount (0 without an mm).
/// </remarks>
static class PackedLargeFolioInfo
{
    const int AnonVmaBits = 24, NrPagesMappedShift = 24, SharedBit = 28;
    const int IndexBits = 36, MapcountShift = 36, MapcountBits = 8, MmIdShift = 44, MmIdBits = 20;

    /// <summary>Packs the record, or returns false when it is outside what 12 bytes hold.</summary>
    public static bool TryPack(in LargeFolioInfo lf, out int word, out ulong bits)
    {
        word = 0;
        bits = 0;
        if (lf.EntireMapcount != 0 || lf.Pincount != 0 || lf.DeferredPrev != -1 || lf.DeferredNext != -1
            || lf.MmId1 != 0 || lf.MmCount1 != 0 || lf.MmCount0 != (lf.MmId0 != 0 ? lf.LargeMapcount : 0)
            || (uint)lf.AnonVma >= 1u << AnonVmaBits || (uint)lf.NrPagesMapped > 15
            || (ulong)lf.AnonIndex >= 1UL << IndexBits || (uint)lf.LargeMapcount >= 1u << MapcountBits
            || (uint)lf.MmId0 >= 1u << MmIdBits)
            return false;
        word = lf.AnonVma | lf.NrPagesMapped << NrPagesMappedShift | (lf.MaybeMappedShared ? 1 << SharedBit : 0);
        bits = (ulong)lf.AnonIndex | (ulong)lf.LargeMapcount << MapcountShift | (ulong)lf.MmId0 << MmIdShift;
        return true;
    }

    /// <summary>The large mapcount alone (folio_mapcount() reads nothing else).</summary>
    public static int LargeMapcount(ulong bits) => (int)(bits >> MapcountShift) & ((1 << MapcountBits) - 1);

    /// <summary>The anon_vma alone.</summary>
    public static int AnonVma(int word) => word & ((1 << AnonVmaBits) - 1);

    public static LargeFolioInfo Unpack(int word, ulong bits)
    {
        int mapcount = LargeMapcount(bits);
        int mm = (int)(bits >> MmIdShift);
        return new LargeFolioInfo
        {
            AnonVma = AnonVma(word),
            NrPagesMapped = (word >> NrPagesMappedShift) & 15,
            MaybeMappedShared = (word & 1 << SharedBit) != 0,
            AnonIndex = (long)(bits & ((1UL << IndexBits) - 1)),
            LargeMapcount = mapcount,
            MmId0 = mm,
            MmCount0 = mm != 0 ? mapcount : 0,
            DeferredPrev = -1,
            DeferredNext = -1,
        };
    }
}
