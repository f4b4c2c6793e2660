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
    public int ResolvePfn(MmStruct mm, ulong addr, out MappingKind kind)
    {
        var slot = mm.PageTables.Find(PmdIndex(addr));
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
                ulong pte = slot.Ptes![PteIndex(addr)];
                if (Pte.IsNone(pte)) return -1;
                if (Pte.IsSwap(pte)) { kind = MappingKind.Swap; return -1; }
                if (Pte.IsZero(pte)) { kind = MappingKind.Zero; return -1; }
                kind = MappingKind.PtePage;
                return Pte.Pfn(pte);
            default:
                return -1;
        }
    }
}

/// <summary>What maps a virtual page.</summary>
public enum MappingKind { None, Zero, HugeZero, PtePage, PmdPage, Swap }
