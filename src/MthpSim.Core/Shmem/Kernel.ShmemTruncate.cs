using MthpSim.Core.Folio;
using MthpSim.Core.Memcg;
using MthpSim.Core.Shmem;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/shmem.c shmem_undo_range(), mm/truncate.c and the file half of mm/huge_memory.c's splits.
public sealed partial class Kernel
{
    /// <summary>Pieces of shmem folios past max(EOF, fallocend) that splits have dropped (what was written there through a mapping is gone).</summary>
    public long ShmemPastEofDrops { get; private set; }

    /// <summary>The VMAs of every process that map the file (the i_mmap tree), in process and address order.</summary>
    internal IEnumerable<Vma.Vma> FileVmas(ShmemFile f) => _mms.SelectMany(mm => mm.Vmas.Where(v => v.File == f));

    /// <summary>
    /// models unmap_mapping_range() over file pages [first, end): zaps them in every VMA that maps
    /// them; private mappings keep their anonymous copies unless <paramref name="evenCows"/> (truncation).
    /// </summary>
    internal void UnmapMappingRange(ShmemFile f, long first, long end, bool evenCows = false)
    {
        if (end <= first) return;
        foreach (var vma in FileVmas(f).ToList())
        {
            long vStart = vma.PgOff, vEnd = vma.PgOff + (long)(vma.Length >> PageShift);
            long s = Math.Max(first, vStart), e = Math.Min(end, vEnd);
            if (s >= e) continue;
            ZapRange(vma, vma.Start + ((ulong)(s - vStart) << PageShift), vma.Start + ((ulong)(e - vStart) << PageShift), evenCows: evenCows || vma.IsShared);
        }
    }

    /// <summary>
    /// models try_to_unmap() of one shmem folio (TTU_SPLIT_HUGE_PMD) before a split or a collapse, or
    /// with <paramref name="tryToUnmap"/> false unmap_mapping_folio() before a removal: every entry
    /// that maps it goes (and nothing else: a private mapping's own copies and zero pages stay), and a
    /// dirty PMD passes its dirty bit to the folio as __split_huge_pmd_locked() does (a plain zap of
    /// the PMD would not), so a folio written only through a PMD mapping stays dirty. try_to_unmap()
    /// drops the access bits with the entries (a young PMD leaves only PG_referenced); the zap of a
    /// removal marks the folio accessed for a young one, which can activate it.
    /// </summary>
    void UnmapShmemFolio(int head, bool tryToUnmap)
    {
        var (f, index) = _shmemOwner[head];
        long end = index + (1L << Map.Order(head));
        foreach (var vma in FileVmas(f).ToList())
        {
            long vStart = vma.PgOff, vEnd = vma.PgOff + (long)(vma.Length >> PageShift);
            long s = Math.Max(index, vStart), e = Math.Min(end, vEnd);
            if (s >= e) continue;
            ulong from = vma.Start + ((ulong)(s - vStart) << PageShift), to = vma.Start + ((ulong)(e - vStart) << PageShift);
            // Only the entries that map this folio: a private mapping's own pages and zero pages stay.
            foreach (var (a, b) in RunsMappingFolio(vma.Mm, from, to, head, tryToUnmap))
                ZapRange(vma, a, b, evenCows: vma.IsShared, dropMarkers: !tryToUnmap);
        }
    }

    /// <summary>
    /// The address runs of [from, to) whose entries map pages of the folio (a PMD mapping of it as one
    /// run). With <paramref name="tryToUnmap"/> (try_to_unmap() with TTU_SPLIT_HUGE_PMD) their young
    /// bits are taken off first, so that zapping them marks nothing accessed, and a PMD mapping is
    /// split (thp_split_pmd; a young one sets PG_referenced).
    /// </summary>
    List<(ulong From, ulong To)> RunsMappingFolio(Vma.MmStruct mm, ulong from, ulong to, int head, bool tryToUnmap)
    {
        var runs = new List<(ulong, ulong)>();
        ulong pageSize = (ulong)Geo.PageSize;
        WalkPmdRange(mm, from, to, (slot, addr, next) =>
        {
            if (slot.Kind == PageTable.PmdKind.Huge)
            {
                if (PageTable.Pte.Pfn(slot.Leaf) != head) return;
                // __split_huge_pmd_locked() passes a dirty PMD's bit to the folio; a zap of the PMD would not
                if (PageTable.Pte.IsDirty(slot.Leaf)) Map.Set(head, PageFlags.Dirty);
                if (tryToUnmap)
                {
                    // __split_huge_pmd_locked() of a file PMD: dropped, its dirty and young bits going to the folio
                    Stats.Count(VmEvent.ThpSplitPmd);
                    Work(Cost.KernelWork.PmdSplits);
                    if (PageTable.Pte.IsYoung(slot.Leaf)) Map.Set(head, PageFlags.Referenced);
                    slot.Leaf &= ~PageTable.Pte.Young;
                }
                runs.Add((addr, next));
                return;
            }
            if (slot.Kind != PageTable.PmdKind.Table) return;
            var (first, last) = PteSpan(addr, next);
            for (int i = first; i < last; i++)
            {
                ulong pte = slot.Ptes![i];
                if (!PageTable.Pte.IsNormal(pte) || Map.HeadOf(PageTable.Pte.Pfn(pte)) != head) continue;
                if (tryToUnmap) slot.Ptes[i] = pte & ~PageTable.Pte.Young;   // try_to_unmap_one() drops the access bit
                ulong at = addr + ((ulong)(i - first) << PageShift);
                if (runs.Count > 0 && runs[^1].Item2 == at) runs[^1] = (runs[^1].Item1, at + pageSize);
                else runs.Add((at, at + pageSize));
            }
        });
        return runs;
    }

    /// <summary>
    /// models shmem_undo_range() for the bytes [lstart, lend]: folios inside the range leave the page
    /// cache; a large folio only partly inside is zeroed over the range and split around it
    /// (truncate_inode_partial_folio()), and the pieces inside leave; an order-0 page partly inside is
    /// only zeroed there. Swap entries inside are freed (shmem_free_swap()); one only partly inside
    /// is swapped in first (shmem_get_partial_folio()) and truncated as a folio. A range of whole
    /// pages that reaches fallocend takes it back to the range's start.
    /// </summary>
    /// <paramref name="current"/>: the task that truncates (the group its splits' nodes are charged to).
    internal void ShmemUndoRange(ShmemFile f, long lstart, long lend, MmStruct? current = null)
    {
        // the whole pages of the range
        long wholeFirst = PagesOf(lstart), wholeEnd = lend == long.MaxValue ? long.MaxValue : (lend + 1) >> PageShift;
        if (f.FallocEnd > wholeFirst && f.FallocEnd <= wholeEnd) f.FallocEnd = wholeFirst;
        long first = lstart >> PageShift;
        long last = lend == long.MaxValue ? long.MaxValue : lend >> PageShift;   // page of the last byte
        long endExclusive = last == long.MaxValue ? long.MaxValue : last + 1;
        if (f.Cache.SwappedPages > 0)
        {
            // shmem_get_partial_folio() reads an edge back with SGP_READ, which fails past i_size: the
            // entry then stays (or, see ShmemUndoLivelock(), the kernel never returns)
            foreach (long edge in new[] { first, last })
                if (edge != long.MaxValue && f.Cache.IsSwap(edge, out _, out int order) && (edge & ~((1L << order) - 1)) is var s
                    && (s < wholeFirst || s + (1L << order) > wholeEnd) && edge << PageShift < f.Size)
                    ShmemSwapin(f, edge, null, fault: false);
            ShmemFreeSwap(f, wholeFirst, wholeEnd);
        }
        foreach (var (index, head) in f.Cache.Folios(first, endExclusive, h => 1 << Map.Order(h)))
        {
            if (!_shmemOwner.Contains(head)) continue;   // freed by an earlier piece's split
            long folioStart = index << PageShift, folioEnd = (index + (1L << Map.Order(head))) << PageShift;
            if (folioStart >= lstart && (lend == long.MaxValue || folioEnd - 1 <= lend))
                TruncateFolio(head);
            else
            {
                // shmem_undo_range() dirties a folio at either end first: one that cannot split then stays
                Map.Set(head, PageFlags.Dirty);
                TruncatePartialFolio(f, head, lstart, lend, current);
            }
        }
    }

    /// <summary>
    /// Why shmem_undo_range() of [lstart, lend] with i_size <paramref name="iSize"/> would never return
    /// on Linux 6.18.44 (the live kernel here), or null. A large swap entry across an edge of the range
    /// whose page lies past i_size is not read back (SGP_READ fails there); shmem_free_swap() then
    /// refuses it, as it begins before the range (or reaches past its end), and the loop retries the same
    /// entry at the same index for ever, unless its index plus its order passes the range's end. Measured:
    /// ftruncate to a page boundary inside a swapped-out 2M folio spun in the kernel until the entry was
    /// read back from another process.
    /// </summary>
    string? ShmemUndoLivelock(ShmemFile f, long lstart, long lend, long iSize)
    {
        if (f.Cache.SwappedPages == 0) return null;
        long start = PagesOf(lstart);
        long end = lend == long.MaxValue ? long.MaxValue : (lend + 1) >> PageShift;   // exclusive
        bool Unread(long page) => page << PageShift >= iSize;
        bool Retried(long index, int order) => end == long.MaxValue || index + order <= end;
        if (Unread(lstart >> PageShift) && f.Cache.IsSwap(start, out _, out int o1) && o1 > 0
            && (start & ~((1L << o1) - 1)) < start && Retried(start, o1))
            return Livelock(f, start, o1);
        if (end != long.MaxValue && end > start && Unread(lend >> PageShift) && f.Cache.IsSwap(end - 1, out _, out int o2) && o2 > 0
            && ((end - 1) & ~((1L << o2) - 1)) is var b && b >= start && b + (1L << o2) > end && Retried(b, o2))
            return Livelock(f, b, o2);
        return null;
    }

    /// <summary>Why ftruncate of <paramref name="f"/> to <paramref name="size"/> would never return, or null (<see cref="ShmemUndoLivelock"/>).</summary>
    public string? FtruncateLivelock(ShmemFile f, long size) => size >= 0 && size <= f.Size ? ShmemUndoLivelock(f, size, long.MaxValue, size) : null;

    /// <summary>Why a hole punched at [offset, offset+len) would never return, or null (<see cref="ShmemUndoLivelock"/>).</summary>
    public string? PunchLivelock(ShmemFile f, long offset, long len) => offset >= 0 && len > 0 ? ShmemUndoLivelock(f, offset, offset + len - 1, f.Size) : null;

    string Livelock(ShmemFile f, long index, int order)
    {
        long nr = 1L << order, b = index & ~(nr - 1);
        return $"this truncation of '{f.Name}' would never return: its swap entry of pages {b}-{b + nr - 1} (order {order}) "
            + $"crosses the edge at page {index}, past the file's end, and Linux 6.18.44 retries it for ever in shmem_undo_range() "
            + "(the live kernel here spins until something reads the entry back); what follows is not modelled";
    }

    /// <summary>
    /// models truncate_inode_partial_folio(): zero the covered bytes, split at the range's first page
    /// and past its end, drop what lies inside. A first split that stops part way (a node its task's
    /// group cannot take) drops nothing: the folio is dirty. (Linux 6.18 then goes on past the head
    /// piece when the range reaches beyond the folio; that is not modelled.)
    /// </summary>
    void TruncatePartialFolio(ShmemFile f, int head, long lstart, long lend, MmStruct? current)
    {
        var (_, index) = _shmemOwner[head];
        long folioStart = index << PageShift;
        int nr = 1 << Map.Order(head);
        long from = Math.Max(lstart, folioStart) - folioStart;
        long to = Math.Min(lend == long.MaxValue ? long.MaxValue : lend + 1, folioStart + ((long)nr << PageShift)) - folioStart;
        ZeroFolioBytes(f, head, index, from, to);
        if (nr == 1) return;
        var pieces = ShmemSplitFolio(head, head + (int)(from >> PageShift), uniform: false, current, out bool stopped);
        if (stopped) return;
        if (pieces == null)
        {
            // A clean folio that cannot split goes whole; shmem's callers dirty it first, so it stays.
            if (!Map.Test(head, PageFlags.Dirty)) TruncateFolio(head);
            return;
        }
        // Split again at the page past the range's end, if that lies inside a large piece.
        int endPage = head + (int)(to >> PageShift);
        if (to < ((long)nr << PageShift) && endPage < head + nr)
        {
            int piece = Map.HeadOf(endPage);
            if (Map.Order(piece) > 0 && _shmemOwner.Contains(piece)) ShmemSplitFolio(piece, endPage, uniform: false, current, out _);
        }
        for (int p = head; p < head + nr;)
        {
            int ph = Map.HeadOf(p), pn = 1 << Map.Order(ph);
            if (_shmemOwner.Contains(ph))
            {
                long ps = ((long)(ph - head) << PageShift) + folioStart, pe = ps + ((long)pn << PageShift);
                if (ps >= lstart && (lend == long.MaxValue || pe - 1 <= lend)) TruncateFolio(ph);
            }
            p = ph + pn;
        }
    }

    /// <summary>
    /// Zeroes bytes [from, to) of a folio. Content is tracked a page at a time: a page zeroed whole
    /// reads zeroes; one zeroed only in part keeps its token (what was written is still there around the zeroes).
    /// </summary>
    void ZeroFolioBytes(ShmemFile f, int head, long index, long from, long to)
    {
        long pageSize = Geo.PageSize;
        for (long b = (from + pageSize - 1) & ~(pageSize - 1); b + pageSize <= to; b += pageSize)
        {
            Map.SetContent(head + (int)(b >> PageShift), 0);
            f.RecordContent(index + (b >> PageShift), 1, 0);
        }
    }

    /// <summary>
    /// models truncate_inode_folio() → filemap_remove_folio(): unmaps the folio everywhere, takes it out
    /// of the page cache with its accounting, and drops the cache's references (freeing it unless pinned).
    /// </summary>
    internal void TruncateFolio(int head)
    {
        if (Map.FolioMapcount(head) > 0) UnmapShmemFolio(head, tryToUnmap: false);
        var (f, index) = _shmemOwner[head];
        int nr = 1 << Map.Order(head);
        f.RecordContent(index, nr, 0);   // a hole reads zeroes
        ReleaseCacheFolio(f, head, index, nr);
    }

    /// <summary>
    /// models folio_split() of a shmem folio to order 0 at <paramref name="at"/> (a non-uniform split:
    /// the halves not holding that page stay as large as they can), or with <paramref name="uniform"/>
    /// split_folio() (every page its own folio). Fails, with the folio still mapped, when it has
    /// references beyond the page cache's and its mappings' (pins): can_split_folio() is asked
    /// before unmap_folio(). Otherwise every mapping of the folio is taken down and not restored
    /// (file folios are faulted back in). Pieces entirely past max(EOF, fallocend) are dropped.
    /// Returns the pieces' heads, or null when the split fails.
    /// </summary>
    internal List<int>? ShmemSplitFolio(int head, int at, bool uniform = false) => ShmemSplitFolio(head, at, uniform, null, out _);

    /// <summary>
    /// <see cref="ShmemSplitFolio(int, int, bool)"/>; a non-uniform split charges each xa_node it
    /// makes to <paramref name="current"/>'s group, the task whose truncation splits (xas_try_split():
    /// GFP_NOWAIT | __GFP_ACCOUNT; a uniform split's nodes, from xas_split_alloc(), are charged to no
    /// group). A node that cannot be charged ends the split at that step (<paramref name="stopped"/>:
    /// the pieces made so far stay, the one holding <paramref name="at"/> keeps its order, and the
    /// split counts as failed); null when nothing was split.
    /// </summary>
    List<int>? ShmemSplitFolio(int head, int at, bool uniform, MmStruct? current, out bool stopped)
    {
        int order = Map.Order(head);
        var (f, index) = _shmemOwner[head];
        int nr = 1 << order;
        stopped = false;
        if (Map.Refcount(head) != nr + Map.FolioMapcount(head))
        {
            Stats.Count(order, MthpStat.SplitFailed);
            if (order == Geo.PmdOrder) Stats.Count(VmEvent.ThpSplitPageFailed);
            return null;
        }
        if (Map.FolioMapcount(head) > 0) UnmapShmemFolio(head, tryToUnmap: true);
        var pieces = new List<(int Head, int Order)>();
        int lo = head, o = uniform ? 0 : order, charged = 0;
        while (o > 0)
        {
            // an entry filling one slot of its node splits into halves that need a node below it
            if (o % XaNodes.ChunkShift == 0 && current?.Memcg != null)
            {
                if (!ChargeKernelObject(current, XaNodeObjectBytes, ChargeGfp.NoReclaim)) { stopped = true; break; }
                charged++;
            }
            int half = 1 << (o - 1);
            o--;
            if (at < lo + half) pieces.Add((lo + half, o));
            else { pieces.Add((lo, o)); lo += half; }
        }
        Stats.Count(order, stopped ? MthpStat.SplitFailed : MthpStat.Split);
        if (order == Geo.PmdOrder) Stats.Count(stopped ? VmEvent.ThpSplitPageFailed : VmEvent.ThpSplitPage);
        if (pieces.Count == 0 && !uniform) return null;   // the first step's node could not be charged
        if (order == Geo.PmdOrder) NrShmemThps -= nr;
        bool uptodate = !_notUptodate.Remove(head);
        _shmemOwner.Remove(head);
        if (uniform) for (int p = head; p < head + nr; p++) pieces.Add((p, 0));
        else pieces.Add((lo, o));
        pieces.Sort();
        Map.SplitNonUniform(head, pieces);
        LruAddSplitPieces(head, pieces.Skip(1).Select(p => p.Head));
        long keepEnd = Math.Max(PagesOf(f.Size), f.FallocEnd);
        var heads = new List<int>(pieces.Count);
        foreach (var (ph, po) in pieces)
        {
            long pi = index + (ph - head);
            f.Cache.Insert(pi, ph, 1 << po);
            _shmemOwner.Set(ph, f, pi);
            if (!uptodate) _notUptodate.Add(ph);
            heads.Add(ph);
        }
        SettleXaNodes(f, null, precharged: (current, charged));
        foreach (var (ph, _) in pieces)
            if (index + (ph - head) >= keepEnd)
            {
                TruncateFolio(ph);
                ShmemPastEofDrops++;
            }
        return heads;
    }
}
