using System.Text;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Proc;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// fs/proc/task_mmu.c: /proc/PID/smaps.
public sealed partial class Kernel
{
    /// <summary>Field names of an smaps block, in the kernel's order (6.18).</summary>
    public static readonly string[] SmapsFields =
    [
        "Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty", "Shared_Clean", "Shared_Dirty",
        "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
        "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked",
        "THPeligible",
    ];

    /// <summary>models smap_gather_stats() over one VMA: smaps_pte_entry() and smaps_pmd_entry().</summary>
    public MemSizeStats SmapsGather(Vma.Vma vma)
    {
        var mss = new MemSizeStats();
        WalkPmdRange(vma.Mm, vma.Start, vma.End, (slot, addr, next) =>
        {
            if (slot.Kind == PmdKind.Huge)
            {
                if (Map.Kind(Pte.Pfn(slot.Leaf)) == PageKind.Shmem) mss.ShmemThp += Geo.PmdSize;
                else mss.AnonymousThp += Geo.PmdSize;
                SmapsAccount(ref mss, Pte.Pfn(slot.Leaf), 1 << Geo.PmdOrder, slot.Leaf);
            }
            else if (slot.Kind == PmdKind.Table)
            {
                var ptes = slot.Ptes!;
                var (first, end) = PteSpan(addr, next);
                for (int i = first; i < end; i++)
                {
                    if (Pte.IsNormal(ptes[i])) SmapsAccount(ref mss, Pte.Pfn(ptes[i]), 1, ptes[i]);
                    else if (Pte.IsSwap(ptes[i])) SmapsSwapEntry(ref mss, ptes[i]);
                }
            }
        });
        if (vma.File is { Cache.SwappedPages: > 0 } f)
        {
            // A private writable mapping may hide swapped file pages under its own copies: only the
            // holes count (smaps_shmem_walk_ops); otherwise shmem_swap_usage() of the whole VMA.
            if (vma.IsShared || (vma.Flags & VmFlags.Write) == 0) mss.Swap += ShmemSwapUsage(vma, f);
            else mss.Swap += SmapsShmemHoles(vma, f);
        }
        return mss;
    }

    /// <summary>
    /// The swap of a private writable shmem mapping's holes, as smaps_shmem_walk_ops finds it: one
    /// shmem_partial_swap_usage() over each PMD range without a page table (smaps_pte_hole()), one
    /// per empty entry of a page table (smaps_pte_hole_lookup()); each counts the entries it meets whole.
    /// </summary>
    long SmapsShmemHoles(Vma.Vma vma, Shmem.ShmemFile f)
    {
        long swap = 0;
        for (ulong addr = vma.Start; addr < vma.End;)
        {
            ulong next = Math.Min(PmdBase(PmdIndex(addr) + 1), vma.End);
            var slot = vma.Mm.PageTables.Find(PmdIndex(addr));
            if (slot is null or { Kind: PmdKind.None })
                swap += ShmemPartialSwapUsage(f, LinearPageIndex(vma, addr), LinearPageIndex(vma, next));
            else if (slot.Kind == PmdKind.Table)
                for (ulong a = addr; a < next; a += (ulong)Geo.PageSize)
                    if (Pte.IsNone(slot.Ptes![PteIndex(a)]))
                    {
                        long index = LinearPageIndex(vma, a);
                        swap += ShmemPartialSwapUsage(f, index, index + 1);
                    }
            addr = next;
        }
        return swap;
    }

    /// <summary>models shmem_swap_usage(): everything the file has swapped when the VMA starts at offset 0 and is at least i_size long, else what its range has.</summary>
    long ShmemSwapUsage(Vma.Vma vma, Shmem.ShmemFile f)
    {
        if (vma.PgOff == 0 && (long)vma.Length >= f.Size) return f.Cache.SwappedPages << PageShift;
        return ShmemPartialSwapUsage(f, vma.PgOff, vma.PgOff + (long)(vma.Length >> PageShift));
    }

    /// <summary>
    /// models smaps_account(): a folio with refcount 1 is private whole; otherwise each page counts by
    /// its precise mapcount (Pss = size / mapcount, shared when mapped twice or more).
    /// </summary>
    void SmapsAccount(ref MemSizeStats mss, int pfn, int nr, ulong entry)
    {
        int head = Map.HeadOf(pfn);
        long pageSize = Geo.PageSize;
        long size = nr * pageSize;
        // A clean entry still counts as dirty when the folio is (PG_dirty).
        bool dirty = Pte.IsDirty(entry) || Map.Test(head, PageFlags.Dirty);
        if (Map.Kind(head) == PageKind.Anon)
        {
            mss.Anonymous += size;
            if (Map.Test(head, PageFlags.LazyFree) && !dirty) mss.LazyFree += size;
        }
        mss.Resident += size;
        if (Pte.IsYoung(entry) || Map.Test(head, PageFlags.Referenced)) mss.Referenced += size;
        if (Map.Refcount(head) == 1)
        {
            PageAccumulate(ref mss, size, (ulong)size << MemSizeStats.PssShift, dirty, priv: true);
            return;
        }
        for (int i = 0; i < nr; i++)
        {
            int mapcount = Map.PageMapcount(pfn + i);
            ulong pss = (ulong)pageSize << MemSizeStats.PssShift;
            if (mapcount >= 2) pss /= (ulong)mapcount;
            PageAccumulate(ref mss, pageSize, pss, dirty, priv: mapcount < 2);
        }
    }

    /// <summary>smaps_pte_entry() for a swap entry: Swap, and SwapPss shared among the entries of the slot.</summary>
    void SmapsSwapEntry(ref MemSizeStats mss, ulong pte)
    {
        mss.Swap += Geo.PageSize;
        int mapcount = SwapInfo!.Count(Pte.SwapOffset(pte));   // swp_swapcount()
        ulong pss = (ulong)Geo.PageSize << MemSizeStats.PssShift;
        mss.SwapPss += mapcount >= 2 ? pss / (ulong)mapcount : pss;
    }

    /// <summary>models smaps_page_accumulate()</summary>
    static void PageAccumulate(ref MemSizeStats mss, long size, ulong pss, bool dirty, bool priv)
    {
        mss.Pss += pss;
        if (dirty)
        {
            mss.PssDirty += pss;
            if (priv) mss.PrivateDirty += size; else mss.SharedDirty += size;
        }
        else
        {
            if (priv) mss.PrivateClean += size; else mss.SharedClean += size;
        }
    }

    /// <summary>THPeligible: models thp_vma_allowable_orders(vma, TVA_SMAPS, THP_ORDERS_ALL) != 0.</summary>
    public bool ThpEligible(Vma.Vma vma) => ThpVmaAllowableOrders(vma, TvaType.Smaps, Geo.AllOrders) != 0;

    /// <summary>One smaps field in kB (THPeligible as 0/1) for one VMA, or null for an unknown name.</summary>
    public long? SmapsField(Vma.Vma vma, in MemSizeStats mss, string field) => field switch
    {
        "Size" => (long)(vma.Length >> 10),
        "KernelPageSize" or "MMUPageSize" => Geo.PageSize >> 10,
        "Rss" => mss.Resident >> 10,
        "Pss" => (long)(mss.Pss >> (10 + MemSizeStats.PssShift)),
        "Pss_Dirty" => (long)(mss.PssDirty >> (10 + MemSizeStats.PssShift)),
        "Shared_Clean" => mss.SharedClean >> 10,
        "Shared_Dirty" => mss.SharedDirty >> 10,
        "Private_Clean" => mss.PrivateClean >> 10,
        "Private_Dirty" => mss.PrivateDirty >> 10,
        "Referenced" => mss.Referenced >> 10,
        "Anonymous" => mss.Anonymous >> 10,
        "KSM" => 0,
        "LazyFree" => mss.LazyFree >> 10,
        "AnonHugePages" => mss.AnonymousThp >> 10,
        "ShmemPmdMapped" => mss.ShmemThp >> 10,
        "FilePmdMapped" => mss.FileThp >> 10,
        "Shared_Hugetlb" or "Private_Hugetlb" => 0,
        "Swap" => mss.Swap >> 10,
        "SwapPss" => (long)(mss.SwapPss >> (10 + MemSizeStats.PssShift)),
        "Locked" => mss.Locked >> 10,
        "THPeligible" => ThpEligible(vma) ? 1 : 0,
        "ProtectionKey" when ProtectionKeys => 0,
        _ => null,
    };

    /// <summary>Renders the smaps blocks of the given VMAs in the kernel's text format (show_smap()).</summary>
    public string RenderSmaps(IEnumerable<Vma.Vma> vmas)
    {
        var sb = new StringBuilder();
        foreach (var vma in vmas)
        {
            var mss = SmapsGather(vma);
            sb.Append(MapsHeader(vma)).Append('\n');
            foreach (var f in SmapsFields)
            {
                long v = SmapsField(vma, mss, f)!.Value;
                sb.Append((f + ":").PadRight(16));
                sb.Append(v.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(8));
                sb.Append(f == "THPeligible" ? "\n" : " kB\n");
            }
            if (ProtectionKeys) sb.Append("ProtectionKey:         0\n");
            sb.Append("VmFlags: ").Append(VmFlagsText(vma.Flags)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>models show_smap_vma_flags(): mnemonics in the kernel's table order, each followed by a space.</summary>
    static string VmFlagsText(VmFlags f)
    {
        var sb = new StringBuilder();
        void Add(VmFlags bit, string m) { if ((f & bit) != 0) sb.Append(m).Append(' '); }
        Add(VmFlags.Read, "rd"); Add(VmFlags.Write, "wr"); Add(VmFlags.Exec, "ex"); Add(VmFlags.Shared, "sh");
        Add(VmFlags.MayRead, "mr"); Add(VmFlags.MayWrite, "mw"); Add(VmFlags.MayExec, "me"); Add(VmFlags.MayShare, "ms");
        Add(VmFlags.UffdMissing, "um"); Add(VmFlags.UffdWp, "uw");
        Add(VmFlags.Account, "ac"); Add(VmFlags.Hugepage, "hg"); Add(VmFlags.Nohugepage, "nh"); Add(VmFlags.UffdMinor, "ui");
        return sb.ToString();
    }
}
