using MthpSim.Core.Folio;
using MthpSim.Core.Proc;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// tools/mm/thpmaps over the simulated pagemap and kpageflags.
public sealed partial class Kernel
{
    /// <summary>
    /// The thpmaps statistics over [start, end) of an address space, in kB (see <see cref="ThpmapsCalculator"/>).
    /// A VMA is skipped or kept as a whole (its protection, its Rss); of a VMA that reaches past the
    /// range only the pages in the range count, and its PMD-mapped pages in the range stand for AnonHugePages.
    /// </summary>
    public SortedDictionary<string, long> Thpmaps(MmStruct mm, ulong start, ulong end)
    {
        var vmas = new List<ThpmapsVma>();
        foreach (var vma in mm.Intersecting(start, end))
        {
            ulong s = Math.Max(start, vma.Start), e = Math.Min(end, vma.End);
            bool accessible = (vma.Flags & (VmFlags.Read | VmFlags.Write | VmFlags.Exec)) != 0;
            bool rss = SmapsGather(vma).Resident > 0;
            // A skipped VMA's pages are never read, as the tool never reads them.
            vmas.Add(accessible && rss
                ? new ThpmapsVma(true, true, CollectThpPages(mm, s, e), PmdMappedPages(mm, s, e, PageKind.Anon), PmdMappedPages(mm, s, e, PageKind.Shmem))
                : new ThpmapsVma(accessible, rss, [], 0));
        }
        return ThpmapsCalculator.Compute(vmas, Geo.PmdOrder, Geo.PageSize >> 10);
    }

    /// <summary>Present pages of large folios (KPF_THP), as thpmaps reads them from pagemap and kpageflags.</summary>
    List<ThpPage> CollectThpPages(MmStruct mm, ulong start, ulong end)
    {
        var pages = new List<ThpPage>();
        for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
        {
            int pfn = ResolvePfn(mm, addr, out _);
            if (pfn < 0) continue;
            int head = Map.HeadOf(pfn);
            if (Map.Order(head) == 0) continue;
            pages.Add(new ThpPage((long)(addr >> PageShift), pfn, Map.Kind(pfn) == PageKind.Anon, pfn == head, IsCompoundTail(pfn + 1)));
        }
        return pages;
    }

    bool IsCompoundTail(int pfn) =>
        pfn < Map.Capacity && Map.Kind(pfn) is PageKind.Anon or PageKind.HugeZero or PageKind.Shmem && Map.Order(pfn) > 0 && Map.HeadOf(pfn) != pfn;

    /// <summary>Pages of [start, end) mapped by a PMD (what PAGEMAP_SCAN reports as PAGE_IS_HUGE) to a folio of this kind (AnonHugePages or ShmemPmdMapped).</summary>
    long PmdMappedPages(MmStruct mm, ulong start, ulong end, PageKind folioKind)
    {
        long pages = 0;
        for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
        {
            int pfn = ResolvePfn(mm, addr, out var kind);
            if (kind == MappingKind.PmdPage && Map.Kind(pfn) == folioKind) pages++;
        }
        return pages;
    }
}
