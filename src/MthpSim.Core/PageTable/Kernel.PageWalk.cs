using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

/// <summary>Called for each populated PMD slot that [addr, next) of a walk falls in.</summary>
internal delegate void PmdEntryVisitor(PmdSlot slot, ulong addr, ulong next);

// mm/pagewalk.c: walk_page_range() at PMD granularity.
public sealed partial class Kernel
{
    /// <summary>models walk_page_range() with a pmd_entry callback: visits each populated PMD slot in [start, end).</summary>
    internal void WalkPmdRange(MmStruct mm, ulong start, ulong end, PmdEntryVisitor visit)
    {
        ulong pmdSize = (ulong)Geo.PmdSize;
        for (ulong addr = start; addr < end;)
        {
            ulong next = Math.Min((addr & ~(pmdSize - 1)) + pmdSize, end);
            var slot = mm.PageTables.Find(PmdIndex(addr));
            if (slot != null) visit(slot, addr, next);
            addr = next;
        }
    }

    /// <summary>The PTE indexes [first, end) of a range inside one PMD.</summary>
    internal (int First, int End) PteSpan(ulong addr, ulong next)
    {
        int first = PteIndex(addr);
        return (first, first + (int)((next - addr) >> PageShift));
    }
}
