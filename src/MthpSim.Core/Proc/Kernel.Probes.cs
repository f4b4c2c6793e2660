using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

/// <summary>What <c>folio REGION OFF kind</c> reports.</summary>
public enum FolioKindProbe { None, Anon, Zero, HugeZero, Shmem, Swap }

// What /proc/PID/pagemap, /proc/kpageflags and reading memory tell about single pages.
public sealed partial class Kernel
{
    /// <summary>Order of the folio mapped at addr: -1 if nothing, 0 for the zero page, PMD order for the huge zero page.</summary>
    public int FolioOrderAt(MmStruct mm, ulong addr)
    {
        int pfn = ResolvePfn(mm, addr, out var kind);
        return kind switch
        {
            MappingKind.None or MappingKind.Swap or MappingKind.Marker => -1,
            MappingKind.Zero => 0,
            _ => Map.Order(pfn),
        };
    }

    /// <summary>Whether addr is mapped by a PMD entry (a PMD THP or the huge zero page).</summary>
    public bool PmdMappedAt(MmStruct mm, ulong addr) =>
        mm.PageTables.Find(PmdIndex(addr))?.Kind is PageTable.PmdKind.Huge or PageTable.PmdKind.HugeZero;

    public FolioKindProbe FolioKindAt(MmStruct mm, ulong addr)
    {
        int pfn = ResolvePfn(mm, addr, out var kind);
        return kind switch
        {
            MappingKind.None => FolioKindProbe.None,
            MappingKind.Zero => FolioKindProbe.Zero,
            MappingKind.HugeZero => FolioKindProbe.HugeZero,
            // pagemap reports a marker as a swap entry (PM_SWAP, with PM_UFFD_WP)
            MappingKind.Swap or MappingKind.Marker => FolioKindProbe.Swap,
            _ => Map.Kind(pfn) == PageKind.Shmem ? FolioKindProbe.Shmem : FolioKindProbe.Anon,
        };
    }

    /// <summary>What a load from page <paramref name="index"/> of a shmem file returns: the cached page's content, zeroes for a hole or a not-uptodate folio.</summary>
    uint FileContentAt(Shmem.ShmemFile f, long index)
    {
        if (f.Cache.IsSwap(index, out int off, out _)) return SwapSlotContent(off);
        return CachedContent(f.Cache.Lookup(index), index);
    }

    /// <summary>What a load of the page at <paramref name="index"/> returns from the folio <paramref name="head"/> caching it (zeroes: none, or not uptodate).</summary>
    uint CachedContent(int head, long index) =>
        // A shmem folio sits at an index aligned to its size, so the page is the index's low bits.
        head < 0 || (_notUptodate.Count > 0 && _notUptodate.Contains(head)) ? 0 : Map.Content(head + (int)(index & ((1L << Map.Order(head)) - 1)));

    /// <summary><see cref="FileContentAt"/> of the pages from <paramref name="index"/> on, one page cache block at a time.</summary>
    void FileContentRun(Shmem.ShmemFile f, long index, Span<uint> dst)
    {
        for (int done = 0; done < dst.Length;)
        {
            var slots = f.Cache.Run(index + done, dst.Length - done, out int n);
            var out_ = dst.Slice(done, n);
            if (slots.IsEmpty || !slots.ContainsAnyExcept(0)) out_.Clear();
            else
                for (int i = 0; i < n; i++)
                {
                    int v = slots[i];
                    out_[i] = v == 0 ? 0 : v < 0 ? SwapSlotContent(Shmem.PageCache.SwapOffsetOf(v)) : CachedContent(v - 1, index + done + i);
                }
            done += n;
        }
    }

    /// <summary>What a load at addr returns: the content token of the mapped page, 0 for zero pages and holes.</summary>
    public uint ContentAt(MmStruct mm, ulong addr)
    {
        int pfn = ResolvePfn(mm, addr, out var kind);
        if (kind is MappingKind.PtePage or MappingKind.PmdPage) return Map.Content(pfn);
        if (kind == MappingKind.Swap) return SwapContent(mm, addr);
        // The zero page reads zeroes, in a private file mapping too (UFFDIO_ZEROPAGE puts it there).
        if (kind is MappingKind.Zero or MappingKind.HugeZero) return 0;
        // An unmapped page of a file mapping (shared or private) faults in what the page cache holds.
        return mm.FindVma(addr) is { File: { } f } vma ? FileContentAt(f, LinearPageIndex(vma, addr)) : 0;
    }

    /// <summary>
    /// What loads of the pages from <paramref name="start"/> return, one token per page into
    /// <paramref name="dst"/> (0 for zero pages and holes), resolved a PMD range at a time.
    /// </summary>
    public void ContentRun(MmStruct mm, ulong start, Span<uint> dst)
    {
        ulong addr = start & ~((ulong)Geo.PageSize - 1);
        Vma.Vma? vma = null;
        for (int done = 0; done < dst.Length;)
        {
            int idx = PteIndex(addr), n = Math.Min(dst.Length - done, (1 << Geo.PmdOrder) - idx);
            var out_ = dst.Slice(done, n);
            var slot = mm.PageTables.Find(PmdIndex(addr));
            switch (slot?.Kind)
            {
                case PmdKind.Huge:
                    Map.ContentsOf(Pte.Pfn(slot.Leaf) + idx, out_);
                    break;
                case PmdKind.Table:
                    var ptes = slot.Ptes.AsSpan(idx, n);
                    for (int i = 0; i < n; i++)
                    {
                        ulong pte = ptes[i];
                        if (Pte.IsNoneMostly(pte))
                        {
                            // a run of holes at once
                            int holes = pte != 0 ? 1 : ptes[i..].IndexOfAnyExcept(0UL) is var h and >= 0 ? h : n - i;
                            UnmappedContentRun(mm, addr + ((ulong)i << PageShift), out_.Slice(i, holes), ref vma);
                            i += holes - 1;
                            continue;
                        }
                        out_[i] = Pte.IsNormal(pte) ? Map.Content(Pte.Pfn(pte))
                            : Pte.IsSwap(pte) ? SwapSlotContent(Pte.SwapOffset(pte)) : 0;
                    }
                    break;
                default:
                    UnmappedContentRun(mm, addr, out_, ref vma);
                    break;
            }
            done += n;
            addr += (ulong)n << PageShift;
        }
    }

    /// <summary>What a swap entry's slot holds (what swap-in will read back).</summary>
    uint SwapContent(MmStruct mm, ulong addr) =>
        SwapSlotContent(Pte.SwapOffset(mm.PageTables.Find(PmdIndex(addr))!.Ptes![PteIndex(addr)]));

    /// <summary>What loads from unmapped pages from <paramref name="addr"/> on return: the page cache's content in a file mapping, else zeroes.</summary>
    void UnmappedContentRun(MmStruct mm, ulong addr, Span<uint> dst, ref Vma.Vma? vma)
    {
        if (_files.Count == 0) { dst.Clear(); return; }
        for (int done = 0; done < dst.Length;)
        {
            ulong at = addr + ((ulong)done << PageShift);
            if (vma == null || !vma.Contains(at)) vma = mm.Vmas.FirstEndingAfter(at);
            // up to the VMA's end, or a hole up to its start
            ulong to = vma == null ? ulong.MaxValue : vma.Start > at ? vma.Start : vma.End;
            int n = (int)Math.Min((ulong)(dst.Length - done), (to - at) >> PageShift);
            var out_ = dst.Slice(done, n);
            if (vma is { File: { } f } && vma.Start <= at) FileContentRun(f, LinearPageIndex(vma, at), out_);
            else out_.Clear();
            done += n;
        }
    }

    /// <summary>What the program must read at addr: its last store there, or zeroes (MaybeZero: either).</summary>
    public uint ExpectedAt(MmStruct mm, ulong addr)
    {
        // Shared memory holds what any process last wrote to the file there.
        var vma = mm.FindVma(addr);
        if (vma is { File: { } f, IsShared: true }) return f.ExpectedContent(LinearPageIndex(vma, addr));
        var slot = mm.PageTables.Find(PmdIndex(addr));
        uint own = slot?.Expected?[PteIndex(addr)] ?? 0;
        // A private file mapping shows the file until the program holds a copy of the page.
        return own == 0 && vma?.File is { } pf ? pf.ExpectedContent(LinearPageIndex(vma, addr)) : own;
    }

    /// <summary>Whether the kernel dropped a store of this process in [start, end) that it had not freed (<see cref="IsDroppedStore"/>).</summary>
    public bool KernelDroppedStores(MmStruct mm, ulong start, ulong end)
    {
        if (_droppedStores.Count == 0) return false;
        for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
            if (IsDroppedStore(ExpectedAt(mm, addr))) return true;
        return false;
    }

    /// <summary>1 when every page of [start, end) reads back what the program stored there.</summary>
    public bool Intact(MmStruct mm, ulong start, ulong end) => FirstCorruptPage(mm, start, end) == null;

    /// <summary>The first page whose content differs from what the program expects, or null.</summary>
    public ulong? FirstCorruptPage(MmStruct mm, ulong start, ulong end)
    {
        for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
        {
            // (a store the kernel dropped is a token no page holds: lost here, as on the live side)
            uint expected = ExpectedAt(mm, addr), actual = ContentAt(mm, addr);
            bool ok = (expected & PmdSlot.MaybeZero) != 0
                ? actual == 0 || actual == (expected & ~PmdSlot.MaybeZero)
                : actual == expected;
            if (!ok) return addr;
        }
        return null;
    }

    /// <summary>Anonymous memory mapped, in bytes, by the order of the folio that backs it (every process).</summary>
    public long[] MappedBytesByOrder()
    {
        var bytes = new long[Geo.PmdOrder + 1];
        foreach (var mm in _mms)
            foreach (var (_, slot) in mm.PageTables.Ordered())
            {
                if (slot.Kind == PmdKind.Huge) bytes[Geo.PmdOrder] += Geo.PmdSize;
                else if (slot.Kind == PmdKind.Table)
                    foreach (ulong pte in slot.Ptes!)
                        if (Pte.IsNormal(pte)) bytes[Map.Order(Pte.Pfn(pte))] += Geo.PageSize;
            }
        return bytes;
    }
}
