using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

public sealed partial class Kernel
{
    /// <summary>
    /// The first address from <paramref name="addr"/> on, below <paramref name="end"/>, whose PMD range
    /// has an entry: a page walk (walk_page_range()) passes over a pmd_none range whole.
    /// </summary>
    public ulong SkipEmptyPmds(MmStruct mm, ulong addr, ulong end)
    {
        ulong pmdMask = (ulong)Geo.PmdSize - 1;
        while (addr < end && mm.PageTables.Find(PmdIndex(addr)) == null) addr = (addr | pmdMask) + 1;
        return Math.Min(addr, end);
    }

    /// <summary>
    /// The page frame mapped at addr (follow_page()): its PFN, or -1 when nothing is mapped or the
    /// shared zero page or a swap entry is; <paramref name="kind"/> tells which of none/zero/hugezero/page/swap it is.
    /// </summary>
    public int ResolvePfn(MmStruct mm, ulong addr, out MappingKind kind) => Resolve(mm.PageTables.Find(PmdIndex(addr)), addr, out kind);

    /// <summary>
    /// <see cref="ResolvePfn"/> for each page from <paramref name="addr"/> to <paramref name="end"/> or
    /// the end of addr's PMD range, whichever comes first, the PMD entry read once: fills
    /// <paramref name="pfns"/> and <paramref name="kinds"/> (each at least PTRS_PER_PTE long) and
    /// returns how many pages it resolved.
    /// </summary>
    public int ResolvePfns(MmStruct mm, ulong addr, ulong end, Span<int> pfns, Span<MappingKind> kinds)
    {
        ulong pmdEnd = (addr | ((ulong)Geo.PmdSize - 1)) + 1;
        int n = (int)((Math.Min(end, pmdEnd) - addr + (ulong)Geo.PageSize - 1) >> PageShift);
        var slot = mm.PageTables.Find(PmdIndex(addr));
        if (slot is { Kind: PmdKind.Table, Ptes: { } table })
        {
            var ptes = table.AsSpan(PteIndex(addr), n);
            for (int i = 0; i < ptes.Length; i++) pfns[i] = FromPte(ptes[i], out kinds[i]);
        }
        else for (int i = 0; i < n; i++) pfns[i] = Resolve(slot, addr + ((ulong)i << PageShift), out kinds[i]);
        return n;
    }

    int Resolve(PmdSlot? slot, ulong addr, out MappingKind kind)
    {
        kind = MappingKind.None;
        if (slot == null) return -1;
        switch (slot.Kind)
        {
            case PmdKind.Huge:
                kind = MappingKind.PmdPage;
                return Pte.Pfn(slot.Leaf) + PteIndex(addr);
            case PmdKind.HugeZero:
                kind = MappingKind.HugeZero;
                return Pte.Pfn(slot.Leaf) + PteIndex(addr);
            case PmdKind.Table:
                return FromPte(slot.Ptes![PteIndex(addr)], out kind);
            default:
                return -1;
        }
    }

    static int FromPte(ulong pte, out MappingKind kind)
    {
        kind = Pte.IsNone(pte) ? MappingKind.None : Pte.IsSwap(pte) ? MappingKind.Swap : Pte.IsMarker(pte) ? MappingKind.Marker
            : Pte.IsZero(pte) ? MappingKind.Zero : MappingKind.PtePage;
        return kind == MappingKind.PtePage ? Pte.Pfn(pte) : -1;
    }
}

/// <summary>What maps a virtual page.</summary>
public enum MappingKind { None, Zero, HugeZero, PtePage, PmdPage, Swap, /** a uffd-wp marker: nothing mapped, the next access faults the file's page in */ Marker }
