using MthpSim.Core.Folio;
using MthpSim.Core.PageAlloc;

namespace MthpSim.Core;

// A machine after uptime: memory the rest of the system holds, placed the way long use leaves it.
public sealed partial class Kernel
{
    /// <summary>Pages <c>age unmovable|reclaimable</c> placed (kernel memory outside the model's processes).</summary>
    public long NrKernelPages { get; private set; }
    /// <summary>Pages <c>age pinned</c> placed (pinned memory of programs outside the scenario).</summary>
    public long NrPinnedPages { get; private set; }
    int _ageCalls;

    /// <summary>
    /// Places PAGES order-0 pages of KIND. Clustered: through the allocator, as allocations made on a
    /// young machine are (kernel memory claims whole pageblocks of its type). Scattered: at page
    /// frames drawn from the machine's seed, each free frame as likely as any other, in whatever
    /// pageblock holds it, which keeps its type: the mixed pageblocks a machine has after kernel
    /// allocations stole single pages while memory was full. -ENOMEM when memory ran out first
    /// (the pages placed by then stay).
    /// </summary>
    public long Age(AgeKind kind, long pages, bool scattered)
    {
        var pageKind = kind == AgeKind.Pinned ? PageKind.Pinned : PageKind.KernelPage;
        var mt = kind switch { AgeKind.Unmovable => MigrateType.Unmovable, AgeKind.Reclaimable => MigrateType.Reclaimable, _ => MigrateType.Movable };
        var rng = new Random(unchecked((int)Config.Seed ^ (int)(Config.Seed >> 32) ^ (++_ageCalls * 0x3C6EF372)));
        for (long i = 0; i < pages; i++)
        {
            int pfn = scattered ? TakeScatteredPage(rng) : Buddy.Alloc(0, mt);
            if (pfn < 0) return -Errno.ENOMEM;
            Map.InitFolio(pfn, 0, pageKind);
            if (pageKind == PageKind.Pinned) NrPinnedPages++; else NrKernelPages++;
        }
        return 0;
    }

    /// <summary>A free page frame drawn at random: the first free frame at or after a random one, wrapping around.</summary>
    int TakeScatteredPage(Random rng)
    {
        if (Buddy.FreePages == 0) return -1;
        long total = Buddy.TotalPages;
        long start = rng.NextInt64(total);
        for (long n = 0; n < total; n++)
        {
            int pfn = (int)((start + n) % total);
            if (pfn < Buddy.Frontier && Map.Kind(pfn) is not (PageKind.FreeHead or PageKind.FreeTail)) continue;
            if (Buddy.TakeFreePage(pfn)) return pfn;
        }
        return -1;
    }
}
