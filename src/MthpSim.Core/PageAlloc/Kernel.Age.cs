using MthpSim.Core.Folio;
using MthpSim.Core.PageAlloc;

namespace MthpSim.Core;

// A machine after uptime: memory the rest of the system holds, placed the way long use leaves it.
public sealed partial class Kernel
{
    /// <summary>Pages <c>age unmovable|reclaimable</c> placed (kernel memory outside the model's processes).</summary>
    public long NrKernelPages { get; private set; }
    /// <summary>Of those, the ones in reclaimable pageblocks (meminfo's SReclaimable).</summary>
    public long NrReclaimableKernelPages { get; private set; }
    /// <summary>Pages <c>age pinned</c> placed (pinned memory of programs outside the scenario).</summary>
    public long NrPinnedPages { get; private set; }
    /// <summary>Pages of clean page cache <c>age pagecache</c> placed that reclaim has not dropped yet.</summary>
    public long NrFileCachePages { get; internal set; }
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
        var pageKind = AgedPageKind(kind);
        var mt = kind switch { AgeKind.Unmovable => MigrateType.Unmovable, AgeKind.Reclaimable => MigrateType.Reclaimable, _ => MigrateType.Movable };
        var rng = new Random(unchecked((int)Config.Seed ^ (int)(Config.Seed >> 32) ^ (++_ageCalls * 0x3C6EF372)));
        for (long i = 0; i < pages; i++)
        {
            int pfn = scattered ? TakeScatteredPage(rng) : Buddy.Alloc(0, mt);
            if (pfn < 0) return -Errno.ENOMEM;
            PlaceAgedPage(pfn, pageKind, kind == AgeKind.Reclaimable);
        }
        return 0;
    }

    static PageKind AgedPageKind(AgeKind kind) => kind switch
    {
        AgeKind.Pinned => PageKind.Pinned,
        AgeKind.Pagecache => PageKind.FileCache,
        _ => PageKind.KernelPage,
    };

    void PlaceAgedPage(int pfn, PageKind kind, bool reclaimable)
    {
        Map.InitFolio(pfn, 0, kind);
        if (kind == PageKind.Pinned) NrPinnedPages++;
        else if (kind == PageKind.FileCache) NrFileCachePages++;
        else
        {
            NrKernelPages++;
            if (reclaimable) NrReclaimableKernelPages++;
        }
    }

    /// <summary>
    /// A free page frame drawn at random (uniform over free frames while there are many); when 64
    /// draws meet no free one, the first free frame after a random one, wrapping around.
    /// </summary>
    int TakeScatteredPage(Random rng)
    {
        if (Buddy.FreePages == 0) return -1;
        long total = Buddy.TotalPages;
        for (int tries = 0; tries < 64; tries++)
        {
            int pick = (int)rng.NextInt64(total);
            if ((pick >= Buddy.Frontier || Map.Kind(pick) is PageKind.FreeHead or PageKind.FreeTail) && Buddy.TakeFreePage(pick)) return pick;
        }
        long start = rng.NextInt64(total);
        for (long n = 0; n < total; n++)
        {
            int pfn = (int)((start + n) % total);
            if (pfn < Buddy.Frontier && Map.Kind(pfn) is not (PageKind.FreeHead or PageKind.FreeTail)) continue;
            if (Buddy.TakeFreePage(pfn)) return pfn;
        }
        return -1;
    }

    /// <summary>
    /// Rebuilds the state a recorded zone was in (a /proc/pagetypeinfo capture) in the first
    /// pageblocks of a machine nothing has allocated from yet: as many pageblocks of each type as the
    /// capture counts, placed in an order drawn from the seed; as many free blocks of each order and
    /// type, at free positions drawn from the seed; every other page of those pageblocks in use,
    /// kernel memory in unmovable and reclaimable blocks and clean page cache in movable ones (what
    /// movable memory a workload leaves is mostly page cache and program memory, which compaction can
    /// move and, for page cache, reclaim can drop). Memory past the capture's pageblocks stays free.
    /// Returns 0, or -EINVAL with the reason in <paramref name="error"/>.
    /// </summary>
    public long AgeFromSnapshot(PagetypeSnapshot snap, out string? error)
    {
        error = null;
        long nBlocks = snap.TotalBlocks;
        if (snap.PageblockOrder != Buddy.PageblockOrder) error = $"the capture's pageblock order is {snap.PageblockOrder}, the machine's {Buddy.PageblockOrder}";
        else if (snap.Free[0].Length != Buddy.MaxOrder + 1) error = $"the capture has orders 0 to {snap.Free[0].Length - 1}, the machine 0 to {Buddy.MaxOrder}";
        else if (nBlocks > Buddy.NrPageblocks) error = $"the capture's zone {snap.Zone} has {nBlocks} pageblocks ({nBlocks << Buddy.PageblockOrder >> (20 - PageShift)}M); the machine has {Buddy.NrPageblocks}";
        else if (Buddy.Frontier > 0) error = "age snapshot must come before anything is allocated";
        else if (Buddy.MobilityDisabled) error = "the machine is too small for mobility grouping";
        if (error != null) return -Errno.EINVAL;
        var rng = new Random(unchecked((int)Config.Seed ^ (int)(Config.Seed >> 32) ^ (++_ageCalls * 0x3C6EF372)));
        int pbo = Buddy.PageblockOrder;
        long end = nBlocks << pbo;
        // Pageblock types: a seeded shuffle of the capture's counts.
        var types = new List<MigrateType>();
        for (int t = 0; t < MigrateTypes.PcpTypes; t++) for (long n = 0; n < snap.Blocks[t]; n++) types.Add((MigrateType)t);
        for (int i = types.Count - 1; i > 0; i--) { int j = rng.Next(i + 1); (types[i], types[j]) = (types[j], types[i]); }
        for (int pfn = 0; pfn < end; pfn++) Buddy.TakeFreePage(pfn);
        for (int b = 0; b < types.Count; b++)
        {
            Buddy.SetBlockType((long)b << pbo, types[b]);
            var kind = types[b] == MigrateType.Movable ? PageKind.FileCache : PageKind.KernelPage;
            for (int pfn = b << pbo; pfn < (b + 1) << pbo; pfn++) PlaceAgedPage(pfn, kind, types[b] == MigrateType.Reclaimable);
        }
        // Free blocks, largest first, where nothing is free yet and the buddy is not free (no merging).
        for (int o = Buddy.MaxOrder; o >= 0; o--)
            for (int t = 0; t < MigrateTypes.PcpTypes; t++)
                for (long n = 0; n < snap.Free[t][o]; n++)
                {
                    int at = FreeSpot(rng, end, o, (MigrateType)t);
                    if (at < 0)
                    {
                        error = $"the capture has more free blocks of order {o} in {MigrateTypes.Name((MigrateType)t)} pageblocks than fit";
                        return -Errno.EINVAL;
                    }
                    for (int pfn = at; pfn < at + (1 << o); pfn++)
                    {
                        if (Map.Kind(pfn) == PageKind.FileCache) NrFileCachePages--;
                        else
                        {
                            NrKernelPages--;
                            if (Buddy.BlockType(pfn) == MigrateType.Reclaimable) NrReclaimableKernelPages--;
                        }
                        Map.ReleaseFolio(pfn);
                    }
                    Buddy.Free(at, o);
                }
        return 0;
    }

    /// <summary>A block of ORDER, naturally aligned below END, in pageblocks of type MT, all of it in use, whose buddy is not a free block: drawn at random, then searched for.</summary>
    int FreeSpot(Random rng, long end, int order, MigrateType mt)
    {
        long spots = end >> order;
        if (spots == 0) return -1;
        bool Fits(long spot)
        {
            int at = (int)(spot << order), n = 1 << order;
            for (long b = at; b < at + n; b += Buddy.PageblockPages) if (Buddy.BlockType(b) != mt) return false;
            if (Buddy.BlockType(at) != mt) return false;
            for (int p = at; p < at + n; p++) if (Map.Kind(p) is not (PageKind.KernelPage or PageKind.FileCache)) return false;
            int buddy = at ^ n;
            return order == Buddy.MaxOrder || buddy >= end || !Map.IsFreeHead(buddy, order);
        }
        for (int tries = 0; tries < 64; tries++)
        {
            long spot = rng.NextInt64(spots);
            if (Fits(spot)) return (int)(spot << order);
        }
        long start = rng.NextInt64(spots);
        for (long k = 0; k < spots; k++)
            if (Fits((start + k) % spots)) return (int)(((start + k) % spots) << order);
        return -1;
    }
}
