using MthpSim.Core.Vma;

namespace MthpSim.Core;

/// <summary>Protection bits of mmap/mprotect.</summary>
[Flags]
public enum Prot { None = 0, Read = 1, Write = 2, Exec = 4 }

// mm/mmap.c, mm/vma.c, mm/mprotect.c: creating, splitting, merging and removing VMAs.
public sealed partial class Kernel
{
    /// <summary>TASK_SIZE of a 47-bit x86_64 / 48-bit arm64 user address space.</summary>
    public ulong TaskSize => Geo.Arch == Arch.CpuArch.X86_64 ? 0x7FFF_FFFF_F000UL : 0xFFFF_FFFF_F000UL;
    /// <summary>Where top-down placement starts (mm->mmap_base); fixed, since the model has no ASLR.</summary>
    public ulong MmapBase => Geo.Arch == Arch.CpuArch.X86_64 ? 0x7F00_0000_0000UL : 0xFF00_0000_0000UL;
    const ulong MmapMinAddr = 65536;

    ulong PageAlignUp(ulong v) => (v + (ulong)Geo.PageSize - 1) & ~((ulong)Geo.PageSize - 1);
    bool PageAligned(ulong v) => (v & ((ulong)Geo.PageSize - 1)) == 0;

    /// <summary>
    /// The checks of do_mmap() for a MAP_FIXED_NOREPLACE address: aligned (-EINVAL), inside the task's
    /// address space (-ENOMEM), not below mmap_min_addr (security_mmap_addr(): -EPERM), and meeting no
    /// mapping (-EEXIST). 0 when it may be mapped.
    /// </summary>
    long FixedNoReplaceCheck(MmStruct mm, ulong fixedAddr, ulong len)
    {
        if (!PageAligned(fixedAddr)) return -Errno.EINVAL;
        if (fixedAddr + len > TaskSize || fixedAddr + len < fixedAddr) return -Errno.ENOMEM;
        if (fixedAddr < MmapMinAddr) return -Errno.EPERM;
        if (mm.AnyIntersecting(fixedAddr, fixedAddr + len)) return -Errno.EEXIST;
        return 0;
    }

    /// <summary>
    /// mmap(addr or NULL, len, prot, MAP_PRIVATE|MAP_ANONYMOUS [|MAP_FIXED_NOREPLACE]).
    /// Returns the start address or a negative errno.
    /// </summary>
    public long Mmap(MmStruct mm, ulong? addr, ulong len, Prot prot)
    {
        using var cost = ChargeTo(mm, Cost.CostOp.Mmap);
        if (len == 0) return -Errno.EINVAL;
        len = PageAlignUp(len);
        ulong start;
        if (addr is ulong fixedAddr)
        {
            if (FixedNoReplaceCheck(mm, fixedAddr, len) is var rc and < 0) return rc;
            start = fixedAddr;
        }
        else
        {
            long a = GetUnmappedArea(mm, len);
            if (a < 0) return a;
            start = (ulong)a;
        }
        var flags = VmFlags.MayRead | VmFlags.MayWrite | VmFlags.MayExec | ProtToFlags(prot);
        if ((prot & Prot.Write) != 0) flags |= VmFlags.Account;
        var vma = new Vma.Vma(start, start + len) { Flags = flags, PgOff = (long)(start >> PageShift), Mm = mm };
        mm.Insert(vma);
        // only a merged anonymous VMA is offered to khugepaged (by MergeAround)
        return MergeOrChargeNewVma(mm, vma, charged: false, out _) ? (long)start : FaultOomRc(mm);
    }

    static VmFlags ProtToFlags(Prot prot) =>
        ((prot & Prot.Read) != 0 ? VmFlags.Read : 0) | ((prot & Prot.Write) != 0 ? VmFlags.Write | VmFlags.Read : 0)
        | ((prot & Prot.Exec) != 0 ? VmFlags.Exec : 0);

    /// <summary>
    /// models __get_unmapped_area(): top-down below mmap_base; an anonymous mapping whose length is a
    /// multiple of the PMD size is PMD-aligned the way thp_get_unmapped_area_vmflags() does it
    /// (search for len + PMD size, then align; at an aligned gap top, the mapping ends at the top).
    /// </summary>
    /// <remarks>
    /// <paramref name="pgoff"/> is the mapping's page offset: 0 for a new anonymous mmap; for
    /// mremap the VMA's, so that a moved range keeps its offset within a PMD.
    /// </remarks>
    long GetUnmappedArea(MmStruct mm, ulong len, long pgoff = 0)
    {
        ulong pmd = (ulong)Geo.PmdSize;
        if (len % pmd == 0)
        {
            long padded = UnmappedAreaTopdown(mm, len + pmd);
            if (padded >= 0)
            {
                ulong ret = (ulong)padded;
                ulong off = (ulong)pgoff << PageShift;
                ulong offSub = (off - ret) & (pmd - 1);
                return (long)(offSub == 0 ? ret + pmd : ret + offSub);
            }
        }
        return UnmappedAreaTopdown(mm, len);
    }

    /// <summary>models unmapped_area_topdown(): the highest gap below mmap_base that holds len.</summary>
    long UnmappedAreaTopdown(MmStruct mm, ulong len) =>
        mm.Vmas.TryEmptyAreaRev(MmapMinAddr, MmapBase, len, out ulong start) ? (long)start : -Errno.ENOMEM;

    /// <summary>models __split_vma(): splits the VMA containing addr so that a VMA starts at addr.</summary>
    internal void SplitVmaAt(MmStruct mm, ulong addr)
    {
        var vma = mm.FindVma(addr);
        if (vma == null || vma.Start == addr) return;
        SplitPmdAtBoundary(mm, addr);
        var tail = vma.Clone();
        // vm_area_dup() and anon_vma_clone(): the new half's object and chain entries, charged to the
        // mm's group. The model splits even if a charge fails (the kernel would fail the call with
        // -ENOMEM; only after an OOM kill of the caller).
        tail.ObjCg = 0;
        ChargeVmArea(tail);
        tail.AvcCg = tail.AnonVmaChain.Length > 0 ? ObjCgIdOf(mm) : (ushort)0;
        foreach (int _ in tail.AnonVmaChain) ChargeKernelObject(mm, AnonVmaChainObjectBytes);
        AnonVmaLinkChain(tail);
        tail.Start = addr;
        tail.PgOff = vma.PgOff + (long)((addr - vma.Start) >> PageShift);
        mm.Vmas.SetRange(vma, vma.Start, addr);
        mm.Insert(tail);
        // The new VMA is linked by anon_vma_clone(); the one split is taken out of the trees by
        // vma_prepare() and put back by vma_complete(), after it. Which half __split_vma() makes anew
        // (new_below) does not matter here: the halves' vm_pgoff differ, so no walk compares them.
        AnonVmaRelink(tail);
        AnonVmaRelink(vma);
    }

    /// <summary>models is_mergeable_vma() and the pgoff check of can_vma_merge_after(), with is_mergeable_anon_vma().</summary>
    bool CanMerge(Vma.Vma prev, Vma.Vma next) =>
        prev.End == next.Start && prev.Flags == next.Flags && prev.File == next.File &&
        prev.PgOff + (long)((prev.End - prev.Start) >> PageShift) == next.PgOff &&
        IsMergeableAnonVma(prev, next);

    // models is_mergeable_anon_vma(): a VMA without an anon_vma may take its neighbour's, unless that
    // neighbour is a fork child (sharing it would widen the anon_vma root lock's reach)
    static bool IsMergeableAnonVma(Vma.Vma a, Vma.Vma b)
    {
        if (a.AnonVma == 0) return b.AnonVma == 0 || !IsForkChild(b);
        if (b.AnonVma == 0) return !IsForkChild(a);
        return a.AnonVma == b.AnonVma;
    }

    // models vma_is_fork_child(): an anon_vma_chain of more than one anon_vma comes from fork
    static bool IsForkChild(Vma.Vma vma) => vma.AnonVma != 0 && vma.AnonVmaChain.Length != 1;

    /// <summary>
    /// Merges <paramref name="vma"/> with compatible neighbours (vma_merge_existing_range/new_range);
    /// a merge registers the mm with khugepaged when the merged VMA qualifies, as both do. Returns
    /// whether anything merged.
    /// </summary>
    internal bool MergeAround(MmStruct mm, Vma.Vma vma)
    {
        var target = vma;
        bool merged = false;
        System.Diagnostics.Debug.Assert(mm.Vmas.Contains(vma));
        var next = vma.VmNext;   // every caller has vma in mm's tree: its links are its neighbours
        if (next != null && CanMerge(vma, next))
        {
            AbsorbVma(mm, vma, next);
            merged = true;
        }
        var prev = vma.VmPrev;
        if (prev != null && CanMerge(prev, vma))
        {
            AbsorbVma(mm, prev, vma);
            target = prev;
            merged = true;
        }
        if (!merged) return false;
        AnonVmaRelink(target);   // commit_merge(): vma_prepare()/vma_complete() put the grown VMA back in the trees
        KhugepagedEnterVma(target);
        return true;
    }

    /// <summary>munmap(start, len): splits at the edges, zaps, removes the VMAs, frees page tables; one TLB flush if anything was mapped.</summary>
    public long Munmap(MmStruct mm, ulong start, ulong len)
    {
        using var cost = ChargeTo(mm, Cost.CostOp.Munmap);
        long zaps = WorkCharged(Cost.KernelWork.ZapBatches);
        long rc = DoMunmap(mm, start, len);
        if (WorkCharged(Cost.KernelWork.ZapBatches) != zaps) Work(Cost.KernelWork.TlbFlushes);   // tlb_finish_mmu()
        return rc;
    }

    /// <summary>models do_vmi_munmap(): munmap's work, for munmap() and for the calls that unmap on the way (mremap, brk, exit).</summary>
    internal long DoMunmap(MmStruct mm, ulong start, ulong len)
    {
        if (!PageAligned(start) || len == 0) return -Errno.EINVAL;
        len = PageAlignUp(len);
        ulong end = start + len;
        if (end > TaskSize || end < start) return -Errno.EINVAL;
        if (mm.Vmas.FirstEndingAfter(start) is not { } first || first.Start >= end) return 0;   // nothing mapped in the range
        LruAddDrain();   // vms_clear_ptes() / unmap_region()
        if (first.Start < start) SplitVmaAt(mm, start);
        // Ending exactly at end, the first VMA leaves no VMA for end to fall inside: no split, no lookup
        if (first.End != end) SplitVmaAt(mm, end);
        // after the splits every VMA met up to end lies inside [start, end)
        for (var vma = mm.Vmas.FirstEndingAfter(start); vma != null && vma.Start < end;)
        {
            ZapRange(vma, vma.Start, vma.End, dropMarkers: true);   // unmap_vmas(): ZAP_FLAG_DROP_MARKER
            var next = mm.Vmas.Next(vma);
            mm.Vmas.Remove(vma);
            FreeVma(vma);
            vma = next;
        }
        FreePgtables(mm, start, end);
        ReleaseUnmappedAnonShmem();
        return 0;
    }

    /// <summary>
    /// Gives each VMA piece of [start, end) the flags <paramref name="newFlags"/> computes from its VMA
    /// (called once per VMA, before any split), splitting only VMAs whose flags change, then runs
    /// <paramref name="changed"/> on each changed piece and merges it with its neighbours. Returns
    /// -ENOMEM when the range has holes (after changing what is mapped), as madvise_walk_vmas() does;
    /// <paramref name="stopAtHole"/> makes it stop at the first hole (mprotect).
    /// </summary>
    internal long ModifyVmaRange(MmStruct mm, ulong start, ulong end, Func<Vma.Vma, VmFlags> newFlags, Action<Vma.Vma>? changed = null, bool stopAtHole = false)
    {
        long rc = 0;
        if (stopAtHole)
        {
            ulong cursor = start;
            foreach (var v in mm.Intersecting(start, end))
            {
                if (v.Start > cursor) { end = cursor; rc = -Errno.ENOMEM; break; }
                cursor = v.End;
            }
            if (rc == 0 && cursor < end) { end = cursor; rc = -Errno.ENOMEM; }
            if (end <= start) return rc;
        }
        ulong covered = start;
        var list = mm.Intersecting(start, end).ToList();
        var pieces = new List<Vma.Vma>(list.Count);
        foreach (var vma in list)
        {
            if (vma.Start > covered) rc = -Errno.ENOMEM;
            covered = vma.End;
            var flags = newFlags(vma);
            // models the early return of mprotect_fixup() and madvise_update_vma(): no change, no split
            if (flags == vma.Flags) continue;
            ulong pieceStart = Math.Max(start, vma.Start), pieceEnd = Math.Min(end, vma.End);
            SplitVmaAt(mm, pieceStart);
            SplitVmaAt(mm, pieceEnd);
            var piece = mm.FindVma(pieceStart)!;
            piece.Flags = flags;
            changed?.Invoke(piece);
            pieces.Add(piece);
        }
        if (covered < end || list.Count == 0) rc = -Errno.ENOMEM;
        foreach (var piece in pieces)
            if (mm.Vmas.Contains(piece)) MergeAround(mm, piece);
        return rc;
    }

    /// <summary>mprotect(start, len, prot): models mprotect_fixup() and change_protection().</summary>
    public long Mprotect(MmStruct mm, ulong start, ulong len, Prot prot)
    {
        using var cost = ChargeTo(mm, Cost.CostOp.Mprotect);
        if (!PageAligned(start)) return -Errno.EINVAL;
        if (len == 0) return 0;
        ulong end = start + PageAlignUp(len);
        if (mm.FindVma(start) == null) return -Errno.ENOMEM;
        return ModifyVmaRange(mm, start, end, vma =>
        {
            var flags = (vma.Flags & ~(VmFlags.Read | VmFlags.Write | VmFlags.Exec)) | ProtToFlags(prot);
            // mprotect_fixup() charges a private mapping becoming writable (a shared one is never
            // VM_ACCOUNT), and gives the charge back when a private anonymous one that never faulted
            // (no anon_vma) stops being writable: with a different VM_ACCOUNT it no longer merges
            if ((flags & VmFlags.Write) != 0)
            {
                if ((vma.Flags & (VmFlags.Account | VmFlags.Write | VmFlags.Shared)) == 0) flags |= VmFlags.Account;
            }
            else if (vma.IsAnonymous && vma.AnonVma == 0) flags &= ~VmFlags.Account;
            return flags;
        }, ChangeProtection, stopAtHole: true);
    }

    /// <summary>
    /// models change_protection(): drops write permission from every entry when the VMA loses
    /// VM_WRITE; when it gains it, a shared (shmem) mapping's entries all become writable (pte_modify()
    /// with the new vm_page_prot: shmem wants no write notification), and in a private mapping
    /// exclusive anon pages become writable at once (MM_CP_TRY_CHANGE_WRITABLE).
    /// </summary>
    void ChangeProtection(Vma.Vma vma)
    {
        bool writable = (vma.Flags & VmFlags.Write) != 0;
        bool shared = vma.IsShared;
        bool uffdWp = (vma.Flags & VmFlags.UffdWp) != 0;
        long entries = WorkCharged(Cost.KernelWork.Ptes);
        WalkPmdRange(vma.Mm, vma.Start, vma.End, (slot, addr, next) => ChangePmdProtection(slot, addr, next, writable, shared, uffdWp));
        if (WorkCharged(Cost.KernelWork.Ptes) != entries) Work(Cost.KernelWork.TlbFlushes);   // flush_tlb_range()
    }

    /// <summary>
    /// Whether an entry becomes writable with its VMA: every entry of a shared mapping, none where
    /// userfaultfd write protection wants write faults (vm_page_prot is read-only, and
    /// vma_wants_writenotify() asked with it says no to the upgrade: measured live); in a private one
    /// only exclusive anon pages; never one userfaultfd write-protects (can_change_pte_writable(): the
    /// mark counts only in a VMA registered in wp mode).
    /// </summary>
    bool CanBecomeWritable(ulong entry, bool shared, bool uffdWp) =>
        !(uffdWp && PageTable.Pte.IsUffdWp(entry))
        && (shared ? !uffdWp : Map.Test(PageTable.Pte.Pfn(entry), Folio.PageFlags.AnonExclusive));

    void ChangePmdProtection(PageTable.PmdSlot slot, ulong addr, ulong next, bool writable, bool shared, bool uffdWp)
    {
        if (slot.Kind == PageTable.PmdKind.Huge)
        {
            slot.Leaf = writable && CanBecomeWritable(slot.Leaf, shared, uffdWp) ? slot.Leaf | PageTable.Pte.Write : slot.Leaf & ~PageTable.Pte.Write;
            SetPtesWork(1);
            return;
        }
        if (slot.Kind != PageTable.PmdKind.Table) return;
        var (first, end) = PteSpan(addr, next);
        int changed = ChangePteProtection(slot, first, end,
            pte => writable && CanBecomeWritable(pte, shared, uffdWp) ? pte | PageTable.Pte.Write : pte & ~PageTable.Pte.Write);
        if (changed > 0) SetPtesWork(changed);   // change_pte_range(), as one batch per table
    }

    /// <summary>
    /// models change_pte_range(), batch by batch (mprotect_folio_pte_batch(): consecutive pages of
    /// one large folio, the same bits but write, dirty and access): modify_prot_start_ptes() clears
    /// the batch, gathering its access and dirty bits (and on arm64 unfolding the blocks it covers in
    /// part); <paramref name="modify"/> gives each entry its new bits; modify_prot_commit_ptes() sets
    /// each run of entries alike in write permission (commit_anon_folio_batch()'s sub-batches) with
    /// one set_ptes(), every entry with the gathered bits. Returns the entries changed.
    /// </summary>
    int ChangePteProtection(PageTable.PmdSlot slot, int first, int end, Func<ulong, ulong> modify)
    {
        var ptes = slot.Ptes!;
        int changed = 0;
        for (int i = first; i < end;)
        {
            ulong pte = ptes[i];
            if (!PageTable.Pte.IsNormal(pte)) { i++; continue; }
            int pfn = PageTable.Pte.Pfn(pte), head = Map.HeadOf(pfn), folioEnd = head + (1 << Map.Order(head));
            int nr = 1;
            while (i + nr < end && pfn + nr < folioEnd && PageTable.Pte.IsNormal(ptes[i + nr]) && PageTable.Pte.Pfn(ptes[i + nr]) == pfn + nr
                   && ((ptes[i + nr] ^ pte) & ~(AccessBits | PageTable.Pte.Write) & PageTable.Pte.FlagBits) == 0)
                nr++;
            ContClearPtes(slot, i, nr);
            ulong gathered = 0;
            for (int k = i; k < i + nr; k++) gathered |= ptes[k] & AccessBits;
            for (int k = i; k < i + nr; k++) ptes[k] = modify(ptes[k] | gathered);
            for (int k = i; k < i + nr && Geo.ContPtes > 0;)
            {
                int len = 1;
                while (k + len < i + nr && ((ptes[k + len] ^ ptes[k]) & PageTable.Pte.Write) == 0) len++;
                ContSetPtes(slot, k, len);
                k += len;
            }
            changed += nr;
            i += nr;
        }
        return changed;
    }
}
