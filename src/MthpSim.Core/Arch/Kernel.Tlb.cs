using MthpSim.Core.Arch;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// TLB reach: how many entries a process's present mappings need (models no kernel code).
public sealed partial class Kernel
{
    /// <summary>
    /// The TLB entries <paramref name="mm"/>'s present mappings need: one per present PTE, one per PMD
    /// leaf. x86_64 only: on arm64 the contiguous bit folds blocks of PTEs into one entry, and the
    /// model does not set it yet, so a count there would be wrong; it is refused.
    /// </summary>
    public TlbEntries TlbEntriesOf(MmStruct mm)
    {
        if (Geo.Arch != CpuArch.X86_64)
            throw new NotSupportedException("TLB entries on arm64 depend on the contiguous bit (contpte), which the model does not set yet");
        long small = 0, pmd = 0;
        foreach (var (_, slot) in mm.PageTables.Ordered())
        {
            if (slot.Kind is PmdKind.Huge or PmdKind.HugeZero) pmd++;
            else if (slot.Kind == PmdKind.Table)
                foreach (ulong pte in slot.Ptes!)
                    if (Pte.IsPresent(pte)) small++;
        }
        return new TlbEntries(small, pmd, Geo.PageSize, Geo.PmdSize);
    }
}
