using MthpSim.Core.Arch;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// TLB reach: how many entries a process's present mappings need (models no kernel code; the contiguous bit is Kernel.ContPte.cs's).
public sealed partial class Kernel
{
    /// <summary>
    /// The TLB entries <paramref name="mm"/>'s present mappings need: one per PMD leaf, one per block
    /// of PTEs with arm64's contiguous bit, one per other present PTE.
    /// </summary>
    public TlbEntries TlbEntriesOf(MmStruct mm)
    {
        long small = 0, pmd = 0, cont = 0;
        int n = Geo.ContPtes;
        foreach (var (_, slot) in mm.PageTables.Ordered())
        {
            if (slot.Kind is PmdKind.Huge or PmdKind.HugeZero) pmd++;
            else if (slot.Kind == PmdKind.Table)
            {
                foreach (ulong pte in slot.Ptes!)
                    if (Pte.IsPresent(pte)) small++;
                int folded = ContBlockCount(slot);
                cont += folded;
                small -= (long)folded * n;
            }
        }
        return new TlbEntries(small, pmd, Geo.PageSize, Geo.PmdSize, cont, n * Geo.PageSize);
    }
}
