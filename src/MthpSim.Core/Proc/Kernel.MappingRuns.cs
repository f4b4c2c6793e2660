using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

/// <summary>
/// A run of consecutive virtual pages mapped alike: by folios of one order (PMD-mapped or not), by
/// the shared or huge zero page, or by swap entries. <see cref="Order"/> is -1 for zero pages and
/// swap entries.
/// </summary>
public readonly record struct MappingRun(ulong Start, long Pages, MappingKind Kind, int Order, bool Shmem);

public sealed partial class Kernel
{
    /// <summary>
    /// What maps a process's address space, as runs in address order (the page walk /proc/PID/pagemap
    /// and thpmaps do): neighbouring pages go into one run while they are mapped the same way and, for
    /// folios, by folios of the same order and kind. Unmapped pages are left out.
    /// </summary>
    public List<MappingRun> MappingRuns(MmStruct mm)
    {
        var runs = new List<MappingRun>();
        ulong pageSize = (ulong)Geo.PageSize;
        void Add(ulong start, long pages, MappingKind kind, int order, bool shmem)
        {
            if (runs.Count > 0 && runs[^1] is var last && last.Kind == kind && last.Order == order && last.Shmem == shmem
                && last.Start + (ulong)last.Pages * pageSize == start)
                runs[^1] = last with { Pages = last.Pages + pages };
            else runs.Add(new MappingRun(start, pages, kind, order, shmem));
        }
        foreach (var (index, slot) in mm.PageTables.Ordered())
        {
            ulong pmdStart = (ulong)index * (ulong)Geo.PmdSize;
            int perPmd = 1 << Geo.PmdOrder;
            switch (slot.Kind)
            {
                case PmdKind.Huge:
                    Add(pmdStart, perPmd, MappingKind.PmdPage, Geo.PmdOrder, Map.Kind(Pte.Pfn(slot.Leaf)) == PageKind.Shmem);
                    break;
                case PmdKind.HugeZero:
                    Add(pmdStart, perPmd, MappingKind.HugeZero, -1, false);
                    break;
                case PmdKind.Table:
                    var ptes = slot.Ptes!;
                    for (int i = 0; i < perPmd; i++)
                    {
                        ulong pte = ptes[i];
                        if (Pte.IsNoneMostly(pte)) continue;   // a uffd-wp marker maps nothing
                        ulong addr = pmdStart + (ulong)i * pageSize;
                        if (Pte.IsSwap(pte)) Add(addr, 1, MappingKind.Swap, -1, false);
                        else if (Pte.IsZero(pte)) Add(addr, 1, MappingKind.Zero, -1, false);
                        else
                        {
                            int head = Map.HeadOf(Pte.Pfn(pte));
                            Add(addr, 1, MappingKind.PtePage, Map.Order(head), Map.Kind(head) == PageKind.Shmem);
                        }
                    }
                    break;
            }
        }
        return runs;
    }
}
