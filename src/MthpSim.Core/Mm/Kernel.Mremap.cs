using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/mremap.c: resizing and moving a mapping with its pages.
public sealed partial class Kernel
{
    /// <summary>
    /// mremap(old, oldLen, newLen, MREMAP_MAYMOVE [| MREMAP_FIXED, newAddr]): shrinks in place,
    /// grows in place when the space after the VMA is free, otherwise moves the range with its page
    /// tables (move_vma()); a fixed move of the same length moves every VMA of the range
    /// (remap_move()). Anonymous and shmem mappings alike: a file mapping keeps its file offset, and
    /// its page-cache folios stay where they are. Returns the new address or a negative errno.
    /// </summary>
    public long Mremap(MmStruct mm, ulong oldAddr, ulong oldLen, ulong newLen, ulong? newAddr)
    {
        using var cost = ChargeTo(mm, Cost.CostOp.Mremap);
        if (!PageAligned(oldAddr) || newLen == 0) return -Errno.EINVAL;
        oldLen = PageAlignUp(oldLen);
        newLen = PageAlignUp(newLen);
        if (newAddr is ulong fixedAddr)
        {
            if (!PageAligned(fixedAddr) || fixedAddr + newLen > TaskSize) return -Errno.EINVAL;
            if (fixedAddr < oldAddr + oldLen && oldAddr < fixedAddr + newLen) return -Errno.EINVAL;
            if (newLen == oldLen) return RemapMove(mm, oldAddr, oldLen, fixedAddr);
        }
        var vma = mm.FindVma(oldAddr);
        if (vma == null) return -Errno.EFAULT;
        // models check_prep_vma(): only what gets mapped anew must lie in one VMA; a shrink's tail is unmapped like munmap's range
        bool mapsNew = newAddr != null || newLen > oldLen;
        if (mapsNew && oldAddr + Math.Min(oldLen, newLen) > vma.End) return -Errno.EFAULT;

        if (newAddr is ulong target) return MremapTo(mm, oldAddr, oldLen, newLen, target);
        if (newLen <= oldLen)
        {
            if (newLen < oldLen) DoMunmap(mm, oldAddr + newLen, oldLen - newLen);   // models shrink_vma()
            return (long)oldAddr;
        }
        // models vma_expandable(): grow in place when the range ends the VMA and the space after is free
        ulong growEnd = oldAddr + newLen;
        if (oldAddr + oldLen == vma.End && growEnd <= TaskSize && !mm.AnyIntersecting(vma.End, growEnd))
        {
            SplitVmaAt(mm, oldAddr);
            vma = mm.FindVma(oldAddr)!;
            mm.Vmas.SetRange(vma, vma.Start, growEnd);
            AnonVmaRelink(vma);   // vma_expand() → vma_prepare()/vma_complete() take it out of the trees and put it back
            MergeAround(mm, vma);
            KhugepagedEnterVma(mm.FindVma(oldAddr)!);   // vma_merge_extend() merges the extension in: khugepaged_enter_vma()
            return (long)oldAddr;
        }
        long pgoff = LinearPageIndex(vma, oldAddr);
        // vrm_set_new_addr(): get_unmapped_area() with the VMA's file, which for shmem is shmem_get_unmapped_area()
        long dest = vma.File != null ? ShmemGetUnmappedArea(mm, newLen, pgoff, vma.File) : GetUnmappedArea(mm, newLen, pgoff);
        if (dest < 0) return dest;
        return MoveVma(mm, oldAddr, oldLen, newLen, (ulong)dest);
    }

    /// <summary>
    /// models remap_move(): a fixed move of the same length takes every VMA of [start, start + len)
    /// along, each on its own, keeping the gaps between them; the counterpart of a hole is left
    /// alone. Only a hole at the start is refused. A VMA registered with userfaultfd moves only alone
    /// (vma_multi_allowed(): its notification would drop the mmap lock): met after another VMA, or
    /// first with the range going on past it, it stops the move with -EFAULT (what moved before stays
    /// moved), as Linux 6.18 does (checked live).
    /// </summary>
    long RemapMove(MmStruct mm, ulong start, ulong len, ulong newAddr)
    {
        ulong end = start + len;
        // The moves land outside [start, end), so the pieces' addresses stay valid throughout.
        var vmas = mm.Intersecting(start, end).Select(v => (v.Start, v.End, Alone: UserfaultfdArmed(v))).ToList();
        if (vmas.Count == 0 || vmas[0].Start > start) return -Errno.EFAULT;
        long first = -Errno.EFAULT;
        ulong target = newAddr, lastEnd = 0;
        for (int i = 0; i < vmas.Count; i++)
        {
            var (vmStart, vmEnd, alone) = vmas[i];
            if (alone && (i > 0 || vmEnd < end)) return -Errno.EFAULT;
            ulong addr = Math.Max(vmStart, start), pieceLen = Math.Min(end, vmEnd) - addr;
            ulong dest = target + (i == 0 ? 0 : vmStart - lastEnd);
            lastEnd = vmEnd;
            long r = MremapTo(mm, addr, pieceLen, pieceLen, dest);
            if (r < 0) return r;
            if (i == 0) first = r;
            target = (ulong)r + pieceLen;
        }
        return first;
    }

    /// <summary>models mremap_to(): the destination is unmapped first, a shrink cuts the tail, then the range moves.</summary>
    long MremapTo(MmStruct mm, ulong oldAddr, ulong oldLen, ulong newLen, ulong newAddr)
    {
        DoMunmap(mm, newAddr, newLen);   // MREMAP_FIXED replaces whatever is there
        if (mm.FindVma(oldAddr) == null) return -Errno.EFAULT;
        if (newLen < oldLen) { DoMunmap(mm, oldAddr + newLen, oldLen - newLen); oldLen = newLen; }
        return MoveVma(mm, oldAddr, oldLen, newLen, newAddr);
    }

    /// <summary>models move_vma(): a new VMA at the destination (same flags and anon_vma), the page tables moved, the old range unmapped.</summary>
    long MoveVma(MmStruct mm, ulong oldAddr, ulong oldLen, ulong newLen, ulong newAddr)
    {
        SplitVmaAt(mm, oldAddr);
        SplitVmaAt(mm, oldAddr + oldLen);
        var old = mm.FindVma(oldAddr)!;
        var moved = old.Clone();
        // copy_vma(): the moved VMA takes over the old one's object and chain entries once the move
        // holds (the kernel makes new ones and frees the old: the same bytes); its links are its own
        (moved.ObjCg, moved.AvcCg) = (0, 0);
        AnonVmaLinkChain(moved);
        moved.Start = newAddr;
        moved.End = newAddr + newLen;
        // models copy_vma(): an anonymous VMA that never faulted takes its new address's offset, as a new
        // mapping there would, to merge; a file VMA keeps its file offset
        if (old.AnonVma == 0 && old.File == null) moved.PgOff = (long)(newAddr >> PageShift);
        // anon_vma_clone(): the moved VMA is a new one, so rmap walks now meet it behind every VMA
        // with the same offset, fork relatives included
        AnonVmaRelink(moved);
        mm.Insert(moved);
        ulong done = MovePageTables(old, moved, oldAddr, newAddr, oldLen);
        if (done < oldLen)
        {
            // A page table for the destination could not be had (its cgroup charge failed): the
            // entries go back, and the new VMA is unmapped (copy_vma_and_data()'s revert, then
            // unmap_source_vma() on the new VMA). Going back can fail too, where the old
            // range had no table to move from (the first such one needs a new table): what is
            // still at the new place is then zapped with the VMA, swap entries and all.
            MovePageTables(moved, old, newAddr, oldAddr, done);
            DoMunmap(mm, newAddr, newLen);
            return -Errno.ENOMEM;
        }
        // The old range's page tables are empty now: unmapping it frees them and the VMA.
        (moved.ObjCg, moved.AvcCg, old.ObjCg, old.AvcCg) = (old.ObjCg, old.AvcCg, (ushort)0, (ushort)0);
        mm.Vmas.Remove(old);
        FreeVma(old);
        FreePgtables(mm, oldAddr, oldAddr + oldLen);
        // mremap_userfaultfd_prep() without UFFD_FEATURE_EVENT_REMAP: the moved range is no longer
        // registered, and move_ptes() dropped the write protection of what it moved.
        if (UserfaultfdArmed(moved))
        {
            if ((moved.Flags & VmFlags.UffdWp) != 0) ClearUffdWp(moved);
            moved.Flags &= ~VmFlags.UffdArmed;
        }
        MergeAround(mm, moved);
        return (long)newAddr;
    }

    /// <summary>
    /// models move_page_tables(): a whole, equally aligned PMD moves as one entry (move_huge_pmd(),
    /// move_normal_pmd()); otherwise a PMD mapping is split first and the PTEs move one by one
    /// (move_ptes()). Folios, mapcounts and RSS do not change. Returns the bytes moved: less than
    /// <paramref name="len"/> when a destination page table could not be allocated.
    /// </summary>
    ulong MovePageTables(Vma.Vma oldVma, Vma.Vma newVma, ulong oldStart, ulong newStart, ulong len)
    {
        MmStruct mm = oldVma.Mm;
        ulong pmdSize = (ulong)Geo.PmdSize;
        for (ulong off = 0; off < len;)
        {
            ulong oldAddr = oldStart + off, newAddr = newStart + off;
            ulong extent = Math.Min(len - off, Math.Min(pmdSize - (oldAddr & (pmdSize - 1)), pmdSize - (newAddr & (pmdSize - 1))));
            var src = mm.PageTables.Find(PmdIndex(oldAddr));
            if (src == null) { off += extent; continue; }
            if (src.Kind == PmdKind.None) { ForgetExpected(src, oldAddr, extent); off += extent; continue; }
            if (!PmdAlloc(mm, PmdIndex(newAddr))) return off;   // alloc_new_pmd()
            bool wholePmd = extent == pmdSize;
            var dstExisting = mm.PageTables.Find(PmdIndex(newAddr));
            // uffd_supports_page_table_move(): a registered VMA (without UFFD_FEATURE_EVENT_REMAP) moves
            // no whole PTE table, so that every entry's write protection is seen and dropped
            bool tableMove = src.Kind != PmdKind.Table || !(UserfaultfdArmed(oldVma) || UserfaultfdArmed(newVma));
            if (wholePmd && tableMove && (dstExisting == null || dstExisting.Kind == PmdKind.None))
            {
                var dst = mm.PageTables.GetOrCreate(PmdIndex(newAddr));
                (dst.Kind, dst.Leaf, dst.Ptes, dst.TablePfn, dst.Expected, dst.ExpectedShared, dst.ContBlocks) = (src.Kind, src.Leaf, src.Ptes, src.TablePfn, src.Expected, src.ExpectedShared, src.ContBlocks);
                (src.Kind, src.Leaf, src.Ptes, src.TablePfn, src.Expected, src.ExpectedShared, src.ContBlocks) = (PmdKind.None, 0, null, -1, null, false, null);
                // move_normal_pmd() / move_huge_pmd(): one PMD entry moved, and its range flushed
                SetPtesWork(1);
                Work(Cost.KernelWork.TlbFlushes);
                off += extent;
                continue;
            }
            if (src.Kind is PmdKind.Huge or PmdKind.HugeZero) SplitHugePmd(oldVma, src, oldAddr & ~(pmdSize - 1));
            // A file PMD is dropped rather than split: nothing is left to move, and no table is made for it.
            if (src.Kind == PmdKind.None) { ForgetExpected(src, oldAddr, extent); off += extent; continue; }
            if (!MovePtes(mm, src, oldAddr, newAddr, extent)) return off;
            off += extent;
        }
        return len;
    }

    /// <summary>
    /// Nothing mapped to move (a file PMD dropped, say): what the program expected at the old place
    /// goes, as the range leaves it; at the new place the file's pages show.
    /// </summary>
    void ForgetExpected(PmdSlot src, ulong addr, ulong extent)
    {
        if (src.Expected != null) Array.Clear(ExpectedForWrite(src), PteIndex(addr), (int)(extent >> PageShift));
    }

    /// <summary>models move_ptes(): entries move to the new place, with what the program expects there.</summary>
    bool MovePtes(MmStruct mm, PmdSlot src, ulong oldAddr, ulong newAddr, ulong extent)
    {
        var dst = mm.PageTables.GetOrCreate(PmdIndex(newAddr));
        if (dst.Kind == PmdKind.None)
        {
            int table = AllocPageTable(mm);
            if (table < 0) return false;
            dst.Kind = PmdKind.Table;
            dst.TablePfn = table;
            dst.Ptes ??= NewPteTable();
        }
        int n = (int)(extent >> PageShift);
        int si = PteIndex(oldAddr), di = PteIndex(newAddr);
        long batches = WorkCharged(Cost.KernelWork.PteBatches);
        if (Geo.ContPtes > 0) MovePtesContPte(src, si, dst, di, n);
        else
        {
            // one entry at a time on x86 (mremap_folio_pte_batch() batches only contiguous-bit blocks)
            int moved = n - src.Ptes.AsSpan(si, n).Count(0UL);
            Work(Cost.KernelWork.PteBatches, moved);
            Work(Cost.KernelWork.Ptes, moved);
            Array.Copy(src.Ptes!, si, dst.Ptes!, di, n);
            Array.Clear(src.Ptes!, si, n);
        }
        if (WorkCharged(Cost.KernelWork.PteBatches) != batches) Work(Cost.KernelWork.TlbFlushes);   // move_ptes(): flush_tlb_range()
        if (src.Expected != null)
        {
            Array.Copy(src.Expected, si, ExpectedForWrite(dst), di, n);
            Array.Clear(ExpectedForWrite(src), si, n);
        }
        if ((InjectedFaults & InjectedFault.MremapSwapsTwoPtes) != 0 && n >= 2)
        {
            (dst.Ptes![di], dst.Ptes[di + 1]) = (dst.Ptes[di + 1], dst.Ptes[di]);
            if (dst.Expected != null)
            {
                var e = ExpectedForWrite(dst);
                (e[di], e[di + 1]) = (e[di + 1], e[di]);
            }
        }
        return true;
    }
}
