using MthpSim.Core.Folio;
using MthpSim.Core.Shmem;
using MthpSim.Core.Stats;
using MthpSim.Core.Thp;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/shmem.c: which folio size a shmem index gets, and putting new folios in the page cache.
public sealed partial class Kernel
{
    /// <summary>The page cache's owner of each shmem folio: (file, first index), by head PFN (folio->mapping, folio->index).</summary>
    readonly ShmemOwnerTable _shmemOwner;
    /// <summary>Shmem folios allocated by fallocate and not yet written or faulted (!folio_test_uptodate()).</summary>
    readonly HashSet<int> _notUptodate = new();

    internal (ShmemFile File, long Index) ShmemOwnerOf(int head) => _shmemOwner[head];

    /// <summary>The file and first index of a shmem folio in the page cache, or null (a folio truncated while pinned).</summary>
    public (ShmemFile File, long Index)? ShmemOwner(int head) => _shmemOwner.TryGet(head, out var f, out long index) ? (f, index) : null;

    /// <summary>Whether a shmem folio is uptodate (written, faulted or read in); fallocated ones are not until then.</summary>
    public bool ShmemFolioUptodate(int head) => !_notUptodate.Contains(head);

    /// <summary>folio_mark_uptodate() after zeroing what was never written (content is already zero).</summary>
    void MarkUptodate(int head) => _notUptodate.Remove(head);

    /// <summary>THP_ORDERS_ALL_FILE_DEFAULT: shmem folio orders 1 up to the PMD order.</summary>
    ulong FileOrders => ((1UL << (Geo.PmdOrder + 1)) - 1) & ~1UL;

    /// <summary>models shmem_get_orders_within_size(): the highest order whose aligned folio around index ends within max(i_size, write_end), and all below.</summary>
    ulong ShmemGetOrdersWithinSize(ShmemFile f, ulong orders, long index, long writeEnd)
    {
        long withinPages = PagesOf(Math.Max(f.Size, writeEnd));
        while (orders != 0)
        {
            int order = HighestOrder(orders);
            long alignedEnd = (index + (1L << order)) & ~((1L << order) - 1);
            if (alignedEnd <= withinPages) return orders;
            orders &= ~(1UL << order);
        }
        return 0;
    }

    /// <summary>models shmem_huge_global_enabled(): the superblock's huge= (or the global deny/force), for a fault (with a VMA) or a write.</summary>
    ulong ShmemHugeGlobalEnabled(ShmemFile f, long index, long writeEnd, bool forced, VmFlags vmFlags, bool hasVma)
    {
        ulong pmdBit = 1UL << Geo.PmdOrder;
        if (Thp.ShmemEnabled == ShmemEnabled.Deny) return 0;
        if (forced || Thp.ShmemEnabled == ShmemEnabled.Force) return pmdBit;
        ulong maybe = hasVma ? pmdBit : FileOrders;
        switch (f.Mount?.Huge ?? Thp.InternalMountHuge)
        {
            case ShmemHuge.Always:
                return maybe;
            case ShmemHuge.WithinSize:
                ulong within = ShmemGetOrdersWithinSize(f, maybe, index, writeEnd);
                if (within != 0) return within;
                goto case ShmemHuge.Advise;
            case ShmemHuge.Advise:
                return (vmFlags & VmFlags.Hugepage) != 0 ? pmdBit : 0;
            default:
                return 0;
        }
    }

    /// <summary>
    /// models shmem_allowable_huge_orders(): the write path and tmpfs mappings follow the superblock's
    /// huge=; mappings of files on the internal mount (shared anonymous memory, memfds) follow the
    /// per-size shmem_enabled knobs, with inherit meaning the top-level setting. <paramref name="forced"/>
    /// (MADV_COLLAPSE) makes only the top-level setting allow the PMD size: the per-size knobs still
    /// decide for those mappings (checked live: 2048kB shmem_enabled=advise without MADV_HUGEPAGE is -EINVAL).
    /// </summary>
    internal ulong ShmemAllowableHugeOrders(ShmemFile f, Vma.Vma? vma, long index, long writeEnd, bool forced)
    {
        VmFlags flags = vma?.Flags ?? VmFlags.None;
        if (vma != null && VmaThpDisabled(vma, flags, forced)) return 0;
        ulong global = ShmemHugeGlobalEnabled(f, index, writeEnd, forced, flags, vma != null);
        if (vma == null || !f.OnInternalMount) return global;
        if (Thp.ShmemEnabled == ShmemEnabled.Deny) return 0;
        if (Thp.ShmemEnabled == ShmemEnabled.Force) return Thp.ShmemInherit;
        ulong mask = Thp.ShmemAlways;
        if ((flags & VmFlags.Hugepage) != 0) mask |= Thp.ShmemAdvise;
        if (global != 0) mask |= Thp.ShmemInherit;
        if (Thp.ShmemWithinSize != 0) mask |= ShmemGetOrdersWithinSize(f, Thp.ShmemWithinSize, index, writeEnd);
        return FileOrders & mask;
    }

    /// <summary>
    /// models shmem_suitable_orders(): with a VMA, orders whose aligned block fits it (and its pgoff);
    /// then the highest order whose aligned index range holds nothing in the page cache, and all below.
    /// </summary>
    ulong ShmemSuitableOrders(ShmemFile f, Vma.Vma? vma, ulong addr, long index, ulong orders)
    {
        if (vma != null) orders = ThpVmaSuitableOrders(vma, addr, orders);
        while (orders != 0)
        {
            int order = HighestOrder(orders);
            long nr = 1L << order;
            if (!f.Cache.AnyIn(index & ~(nr - 1), nr)) break;
            orders &= ~(1UL << order);
        }
        return orders;
    }

    /// <summary>
    /// models shmem_alloc_and_add_folio() and the accounting of shmem_get_folio_gfp(): tries the suitable
    /// large orders highest first (shmem_fallback per failure, thp_file_fallback at PMD), then order 0;
    /// adds the folio to the page cache and charges its pages to the inode (and the tmpfs size limit).
    /// Returns the head PFN, -ENOMEM or -ENOSPC.
    /// </summary>
    internal int ShmemAllocAndAdd(ShmemFile f, Vma.Vma? vma, ulong addr, long index, long writeEnd)
    {
        ulong orders = ShmemAllowableHugeOrders(f, vma, index, writeEnd, forced: false);
        orders = ShmemSuitableOrders(f, vma, addr, index, orders);
        while (orders != 0)
        {
            int order = HighestOrder(orders);
            orders &= ~(1UL << order);
            int head = VmaAllocFolio(order, PageKind.Shmem, order > 0 ? ThpGfp(vma) : PageAlloc.Gfp.Kernel);
            if (head >= 0)
            {
                // A large folio the faulting mm's cgroup cannot take: straight to order 0, too.
                if (!MemcgCharge(head, vma?.Mm, ThpChargeGfp(vma)))
                {
                    FolioPut(head);
                    if (order == Geo.PmdOrder) { Stats.Count(VmEvent.ThpFileFallback); Stats.Count(VmEvent.ThpFileFallbackCharge); }
                    Stats.Count(order, MthpStat.ShmemFallback);
                    Stats.Count(order, MthpStat.ShmemFallbackCharge);
                    break;
                }
                // shmem_inode_acct_blocks() refuses a folio past the tmpfs size limit (after splitting
                // folios past other files' EOF for room): the large attempt fails as a whole and
                // shmem_get_folio_gfp() goes straight to order 0 (no smaller large order).
                if (!ShmemAcctBlocks(f, 1L << order))
                {
                    FolioPut(head);
                    break;
                }
                long first = index & ~((1L << order) - 1);
                // the xarray's new nodes are charged with the folio's gfp: a failure drops the folio, and order 0 is tried
                if (!AddToPageCache(f, head, first, vma?.Mm, ThpChargeGfp(vma)))
                {
                    FolioPut(head);
                    break;
                }
                if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpFileAlloc);
                Stats.Count(order, MthpStat.ShmemAlloc);
                Work(Cost.KernelWork.PagesZeroed, 1L << order);   // the new folio is cleared before use
                // a large folio reaching past EOF puts the file on the mount's list for shmem_unused_huge_shrink()
                if (f.Mount is { } sb && PagesOf(f.Size) < first + (1L << order) && !sb.ShrinkList.Contains(f))
                    sb.ShrinkList.Add(f);
                return head;
            }
            if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpFileFallback);
            Stats.Count(order, MthpStat.ShmemFallback);
        }
        if (!ShmemAcctBlocks(f, 1)) return -Errno.ENOSPC;
        int page = AllocChargedPage(PageKind.Shmem, vma?.Mm);
        if (page < 0) return -Errno.ENOMEM;
        if (!AddToPageCache(f, page, index, vma?.Mm))
        {
            FolioPut(page);
            return -Errno.ENOMEM;
        }
        Work(Cost.KernelWork.PagesZeroed);
        return page;
    }

    /// <summary>
    /// Whether the tmpfs size limit leaves room for <paramref name="pages"/> more: when it does not,
    /// shmem_alloc_and_add_folio() first splits folios past other files' EOF
    /// (<see cref="ShmemUnusedHugeShrink"/>) and asks again.
    /// </summary>
    bool ShmemAcctBlocks(ShmemFile f, long pages)
    {
        if (!OverTmpfsLimit(f, pages)) return true;
        ShmemUnusedHugeShrink(f.Mount!, pages);
        return !OverTmpfsLimit(f, pages);
    }

    /// <summary>Whether <paramref name="pages"/> more would take the file's tmpfs past its size= limit (shmem_inode_acct_blocks() refusing them).</summary>
    static bool OverTmpfsLimit(ShmemFile f, long pages) => f.Mount is { MaxPages: > 0 } m && m.UsedPages + pages > m.MaxPages;

    /// <summary>
    /// models shmem_unused_huge_shrink() for a tmpfs out of blocks: each file on the mount's list whose
    /// large folio at EOF reaches past both EOF and its fallocated end is split (split_folio(), which
    /// drops the pages past them), until <paramref name="nrToFree"/> pages are freed; a file with nothing
    /// left to split leaves the list, one whose folio cannot split stays on it.
    /// </summary>
    void ShmemUnusedHugeShrink(TmpfsMount m, long nrToFree)
    {
        long freed = 0;
        foreach (var f in m.ShrinkList.ToList())
        {
            if (freed >= nrToFree) break;
            int head = f.Cache.Lookup(f.Size >> PageShift);
            if (head >= 0 && Map.Order(head) > 0)
            {
                long first = ShmemOwnerOf(head).Index, next = first + (1L << Map.Order(head));
                long end = Math.Max(PagesOf(f.Size), f.FallocEnd);   // shmem_fallocend()
                if (end > first && end < next)
                {
                    if (ShmemSplitFolio(head, head, uniform: true) == null) continue;   // move_back
                    freed += next - end;
                }
            }
            m.ShrinkList.Remove(f);
        }
    }

    /// <summary>
    /// models shmem_add_to_page_cache() and shmem_inode_acct_blocks(): the cache holds one reference per
    /// page. The xarray nodes it needs are charged to <paramref name="charger"/>'s group with
    /// <paramref name="gfp"/>; when that fails the folio is not added (false).
    /// </summary>
    bool AddToPageCache(ShmemFile f, int head, long index, MmStruct? charger = null, Memcg.ChargeGfp gfp = Memcg.ChargeGfp.Kernel)
    {
        int nr = 1 << Map.Order(head);
        f.Cache.Insert(index, head, nr);
        if (!SettleXaNodes(f, charger, gfp))
        {
            f.Cache.Remove(index, nr);
            SettleXaNodes(f, null);
            return false;
        }
        _shmemOwner.Set(head, f, index);
        Map.AddRef(head, nr - 1);   // the allocation's reference becomes one of the cache's
        NrShmem += nr;
        if (Map.Order(head) == Geo.PmdOrder) NrShmemThps += nr;
        f.AllocedPages += nr;
        if (f.Mount != null) f.Mount.UsedPages += nr;
        LruAdd(head);
        return true;
    }

    /// <summary><see cref="AddToPageCache"/> of the order-0 folios at frames [pfn, pfn + n), at consecutive indexes from <paramref name="index"/>.</summary>
    void AddSmallRunToPageCache(ShmemFile f, int pfn, int n, long index)
    {
        f.Cache.InsertSmallRun(index, pfn, n);
        SettleXaNodes(f, null);   // the write path: no task's group
        _shmemOwner.SetSmallRun(pfn, n, f, index);
        NrShmem += n;
        f.AllocedPages += n;
        if (f.Mount != null) f.Mount.UsedPages += n;
        if (Lru != null)
            for (int p = pfn; p < pfn + n; p++) LruAdd(p);
    }

    /// <summary>models shmem_get_folio_gfp() with SGP_CACHE (a fault): the folio at index, swapped in or allocated if absent, zeroed and uptodate.</summary>
    internal int ShmemGetFolioForFault(ShmemFile f, Vma.Vma vma, ulong addr, long index)
    {
        if (f.Cache.IsSwap(index, out _, out _)) return ShmemSwapin(f, index, vma, fault: true);
        int head = f.Cache.Lookup(index);
        if (head < 0)
        {
            head = ShmemAllocAndAdd(f, vma, addr, index, 0);
            if (head < 0) return head;
        }
        MarkUptodate(head);
        return head;
    }
}
