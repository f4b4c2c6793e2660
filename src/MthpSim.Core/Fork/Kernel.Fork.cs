using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// kernel/fork.c dup_mmap() and mm/memory.c copy_page_range(): the child's copy of the address space.
public sealed partial class Kernel
{
    /// <summary>
    /// models fork(): the child gets a copy of every VMA (chained to the parent's anon_vmas) and of
    /// the page tables of those that have an anon_vma; private pages are shared copy-on-write.
    /// Returns the child, or null when memory for its page tables ran out.
    /// </summary>
    public MmStruct? Fork(MmStruct parent, string childName)
    {
        var child = CreateProcess(childName);
        // The child is in its parent's cgroup; what the copy allocates is charged there, with the
        // parent as the allocating task, and the OOM killer sees the child only once it is complete.
        child.Memcg = parent.Memcg;
        (_forkParent, _forkChild) = (parent, child);
        using var cost = ChargeTo(parent, Cost.CostOp.Fork);
        Work(Cost.KernelWork.Forks);
        try
        {
            if (!CopyMm(parent, child)) return null;
            Work(Cost.KernelWork.TlbFlushes);   // dup_mmap(): flush_tlb_mm() of the parent, its PTEs write-protected
        }
        finally { (_forkParent, _forkChild) = (null, null); }
        child.Memcg?.Members.Add(child);
        return child;
    }

    MmStruct? _forkParent, _forkChild;

    /// <summary>models dup_mm() → dup_mmap(): the flags, the khugepaged registration, every VMA and what it maps.</summary>
    bool CopyMm(MmStruct parent, MmStruct child)
    {
        child.ThpDisabled = parent.ThpDisabled;   // the prctl flags are inherited
        child.ThpDisabledExceptAdvised = parent.ThpDisabledExceptAdvised;
        (child.StartBrk, child.Brk) = (parent.StartBrk, parent.Brk);
        if (parent.KhugepagedRegistered) KhugepagedEnter(child);   // khugepaged_fork()
        foreach (var src in parent.Vmas)
        {
            var dst = src.Clone();
            dst.Mm = child;
            // fork's kernel objects (the VMA's, the chain's, the task's) are not charged in the model
            (dst.ObjCg, dst.AvcCg) = (0, 0);
            // dup_userfaultfd() without UFFD_FEATURE_EVENT_FORK: the child's VMAs are not registered,
            // and none of its entries keeps a userfaultfd write protection.
            dst.Flags &= ~VmFlags.UffdArmed;
            if (src.AnonVma != 0)
            {
                // models anon_vma_fork(): a new anon_vma for the child's own faults, chained to the parent's
                dst.AnonVma = AnonVmaAlloc(null, root: _anonVmas[src.AnonVma].Root);
                dst.AnonVmaChain = [.. src.AnonVmaChain, dst.AnonVma];
            }
            AnonVmaLinkChain(dst);
            // The child's entries go into the parent's trees behind the parent's: an rmap walk meets
            // the parent's mapping first, until something puts the parent's VMA back in anew.
            AnonVmaRelink(dst);
            child.Vmas.Insert(dst);
            // models vma_needs_copy(): anonymous memory without an anon_vma has nothing to copy
            if (src.AnonVma != 0 && !CopyPageRange(src, dst))
            {
                Exit(child);
                return false;
            }
        }
        return true;
    }

    /// <summary>models copy_page_range() → copy_pmd_range() for one VMA.</summary>
    bool CopyPageRange(Vma.Vma src, Vma.Vma dst)
    {
        ulong pmdSize = (ulong)Geo.PmdSize;
        // the child's deposited page tables, taken a run of huge PMDs at a time
        Span<int> reserve = stackalloc int[ReservedPmdTables];
        int reserved = 0, used = 0;
        long pmdPage = -1;
        for (ulong addr = src.Start; addr < src.End;)
        {
            ulong next = Math.Min((addr & ~(pmdSize - 1)) + pmdSize, src.End);
            // copy_pud_range(): the child gets a PMD page (and the PUD page above it) wherever the
            // parent has one, before any of its entries is copied
            long index = PmdIndex(addr);
            if ((index & ~(src.Mm.PageTables.PmdPageSpan - 1)) != pmdPage)
            {
                pmdPage = index & ~(src.Mm.PageTables.PmdPageSpan - 1);
                if (src.Mm.PageTables.HasPmdPage(index) && !PmdAlloc(dst.Mm, index)) return false;
            }
            var slot = src.Mm.PageTables.Find(index);
            if (slot != null)
            {
                // copy_huge_pmd(): a file PMD is not copied; the child faults it in again
                if (slot.Kind == PmdKind.Huge && src.File != null) { addr = next; continue; }
                if (slot.Kind is PmdKind.Huge or PmdKind.HugeZero)
                {
                    if (used == reserved) (reserved, used) = (ReserveHugePmdTables(src, dst, addr, reserve), 0);
                    bool? copied = CopyHugePmd(src, dst, slot, addr, used < reserved ? reserve[used++] : -1);
                    if (copied == null) return false;   // no page table for the child: fork fails (-ENOMEM)
                    if (copied == false) SplitHugePmd(src, slot, addr & ~(pmdSize - 1));   // maybe pinned: copy at the PTE level
                }
                if (slot.Kind == PmdKind.Table && !CopyPteRange(src, dst, slot, addr, next)) return false;
                CopyExpected(slot, dst.Mm, addr, next);
            }
            addr = next;
        }
        return true;
    }

    /// <summary>The child expects to read what the parent had written.</summary>
    void CopyExpected(PmdSlot slot, MmStruct child, ulong addr, ulong next)
    {
        if (slot.Expected == null) return;
        var dst = child.PageTables.GetOrCreate(PmdIndex(addr));
        var (first, end) = PteSpan(addr, next);
        if (end - first == Geo.PtrsPerPte && dst.Expected == null)
        {
            // The whole table: shared, and copied only when either side first writes it.
            (dst.Expected, dst.ExpectedShared, slot.ExpectedShared) = (slot.Expected, true, true);
            return;
        }
        Array.Copy(slot.Expected, first, ExpectedForWrite(dst), first, end - first);
    }

    /// <summary>
    /// models copy_huge_pmd(): the child maps the same PMD THP (or the huge zero page), both PMDs
    /// write-protected, the child's old. A maybe-pinned exclusive THP is refused (the caller splits
    /// the parent's PMD and copies PTEs); null when the child's deposited page table cannot be had.
    /// </summary>
    bool? CopyHugePmd(Vma.Vma src, Vma.Vma dst, PmdSlot slot, ulong addr, int table = -1)
    {
        int head = Pte.Pfn(slot.Leaf);
        if (!CopyHugePmdTakesTable(src, slot))
        {
            if (table >= 0) throw new InvalidOperationException($"a page table was reserved for the PMD at {addr:x}, which is not copied");
            return false;
        }
        if (table < 0) table = AllocPageTable(dst.Mm);
        if (table < 0) return null;
        var d = dst.Mm.PageTables.GetOrCreate(PmdIndex(addr));
        d.TablePfn = table;
        d.Kind = slot.Kind;
        if (slot.Kind == PmdKind.Huge)
        {
            Map.AddRef(head, 1);
            Map.Clear(head, PageFlags.AnonExclusive);   // __folio_try_dup_anon_rmap() at the PMD level: the head page only
            FolioDupAnonRmapPmd(head, dst.Mm);
            dst.Mm.Rss[(int)RssMember.AnonPages] += 1L << Geo.PmdOrder;
        }
        slot.Leaf &= ~Pte.Write;
        d.Leaf = slot.Leaf & ~(Pte.Young | Pte.UffdWp);
        ForkBatchWork(1);
        return true;
    }

    /// <summary>Whether <see cref="CopyHugePmd"/> copies this PMD (and so allocates the child's table): not a maybe-pinned exclusive THP.</summary>
    bool CopyHugePmdTakesTable(Vma.Vma src, PmdSlot slot) =>
        !(slot.Kind == PmdKind.Huge && Map.Test(Pte.Pfn(slot.Leaf), PageFlags.AnonExclusive) && FolioNeedsCowForDma(src.Mm, Pte.Pfn(slot.Leaf)));

    const int ReservedPmdTables = 64;

    /// <summary>
    /// The page tables the copies of the huge PMDs from <paramref name="addr"/> on will allocate one
    /// after another (nothing else allocates or frees between them), allocated now as a run
    /// (<see cref="AllocPageTables"/>): fills reserve from the start, returns how many it got.
    /// </summary>
    int ReserveHugePmdTables(Vma.Vma src, Vma.Vma dst, ulong addr, Span<int> reserve)
    {
        ulong pmdSize = (ulong)Geo.PmdSize;
        // not past this PMD page: the child's next one is allocated before the tables under it
        ulong pageEnd = ((ulong)(PmdIndex(addr) | (src.Mm.PageTables.PmdPageSpan - 1)) + 1) << _pmdShift;
        int n = 0;
        for (ulong a = addr & ~(pmdSize - 1); a < Math.Min(src.End, pageEnd) && n < reserve.Length; a += pmdSize)
        {
            var s = src.Mm.PageTables.Find(PmdIndex(a));
            if (s is not { Kind: PmdKind.Huge or PmdKind.HugeZero } || (s.Kind == PmdKind.Huge && src.File != null) || !CopyHugePmdTakesTable(src, s)) break;
            n++;
        }
        return n < 2 ? 0 : AllocPageTables(dst.Mm, reserve[..n]);
    }

    /// <summary>
    /// models copy_pte_range() → copy_present_ptes(): consecutive PTEs of one large folio with the
    /// same dirty bit are shared in one batch (folio_try_dup_anon_rmap_ptes()); if any page of the
    /// batch is exclusive and the folio may be pinned, pages are taken one at a time and a maybe-pinned
    /// exclusive page is copied for the child at once (copy_present_page()).
    /// </summary>
    bool CopyPteRange(Vma.Vma src, Vma.Vma dst, PmdSlot slot, ulong addr, ulong next)
    {
        var d = dst.Mm.PageTables.GetOrCreate(PmdIndex(addr));
        if (d.Kind == PmdKind.None)
        {
            int table = AllocPageTable(dst.Mm);
            if (table < 0) return false;
            d.Kind = PmdKind.Table;
            d.TablePfn = table;
            d.Ptes ??= NewPteTable();
        }
        var sp = slot.Ptes!;
        var dp = d.Ptes!;
        var (i, end) = PteSpan(addr, next);
        while (i < end)
        {
            ulong pte = sp[i];
            // copy_pte_marker(): the child's VMA is not registered (no UFFD_FEATURE_EVENT_FORK), so no marker is copied
            if (Pte.IsNoneMostly(pte)) { i++; continue; }
            if (Pte.IsSwap(pte))
            {
                // copy_nonpresent_pte(): one more reference to the slot, and neither side is exclusive now
                SwapInfo!.AddCount(Pte.SwapOffset(pte), 1);
                sp[i] = pte & ~Pte.SwpExclusive;
                dp[i] = sp[i] & ~Pte.UffdWp;
                dst.Mm.Rss[(int)RssMember.SwapEnts]++;
                ForkBatchWork(1);
                i++;
                continue;
            }
            if (!Pte.IsNormal(pte))
            {
                dp[i] = pte & ~(Pte.Young | Pte.UffdWp);   // the shared zero page is simply copied
                ForkBatchWork(1);
                i++;
                continue;
            }
            int pfn = Pte.Pfn(pte);
            int head = Map.HeadOf(pfn);
            int nr = PteBatch(sp, i, end, pfn, head);
            if (Map.Kind(head) == PageKind.Shmem)
            {
                DupFileForChild(dst, sp, dp, i, pfn, head, nr);
                ContSetPtes(d, i, nr);
                ForkBatchWork(nr);
                i += nr;
                continue;
            }
            if (nr == 1 && Map.Order(head) == 0 && !src.Mm.HasPinned && Map.Kind(head) == PageKind.Anon)
            {
                // Order-0 folios at consecutive frames: each is a batch of its own, whose work touches
                // only its own page, so a run of them is shared in one step.
                int run = SmallAnonRun(sp, i, end, pfn, SmallMapped.Any);
                ShareSmallRunForChild(dst, sp, dp, i, pfn, run);
                SmallFolioBatchesWork(Cost.KernelWork.ForkBatches, Cost.KernelWork.ForkPtes, run);
                i += run;
                continue;
            }
            if (nr > 1 && !AnyExclusiveMaybePinned(src.Mm, head, pfn, nr))
            {
                ContWrprotectPtes(slot, i, nr);
                ShareForChild(src, dst, sp, dp, i, pfn, head, nr);
                ContSetPtes(d, i, nr);
                ForkBatchWork(nr);
                i += nr;
                continue;
            }
            if (Map.Test(pfn, PageFlags.AnonExclusive) && FolioNeedsCowForDma(src.Mm, head))
            {
                if (!CopyPresentPage(dst, dp, i, pfn, addr + ((ulong)(i - PteIndex(addr)) << PageShift))) return false;
            }
            else
            {
                ContWrprotectPtes(slot, i, 1);
                ShareForChild(src, dst, sp, dp, i, pfn, head, 1);
                ContSetPtes(d, i, 1);
            }
            ForkBatchWork(1);
            i++;
        }
        return true;
    }

    /// <summary>One copy_present_ptes() or copy_nonpresent_pte() call (or one copy_huge_pmd()) over <paramref name="entries"/> entries.</summary>
    void ForkBatchWork(int entries)
    {
        Work(Cost.KernelWork.ForkBatches);
        Work(Cost.KernelWork.ForkPtes, entries);
    }

    /// <summary>models folio_pte_batch() with FPB_RESPECT_DIRTY|FPB_MERGE_WRITE: same folio, consecutive pages, same dirty bit.</summary>
    int PteBatch(ulong[] ptes, int i, int end, int pfn, int head)
    {
        if (Map.Order(head) == 0) return 1;
        int folioEnd = head + (1 << Map.Order(head));
        ulong dirty = ptes[i] & Pte.Dirty;
        int nr = 1;
        while (i + nr < end && pfn + nr < folioEnd && Pte.IsNormal(ptes[i + nr]) && Pte.Pfn(ptes[i + nr]) == pfn + nr
               && (ptes[i + nr] & Pte.Dirty) == dirty)
            nr++;
        return nr;
    }

    bool AnyExclusiveMaybePinned(MmStruct mm, int head, int pfn, int nr)
    {
        if (!FolioNeedsCowForDma(mm, head)) return false;
        for (int p = pfn; p < pfn + nr; p++)
            if (Map.Test(p, PageFlags.AnonExclusive)) return true;
        return false;
    }

    /// <summary>The shared copy-on-write case: both sides map the pages read-only, none exclusive any more.</summary>
    void ShareForChild(Vma.Vma src, Vma.Vma dst, ulong[] sp, ulong[] dp, int i, int pfn, int head, int nr)
    {
        Map.AddRef(head, nr);
        Map.ClearRange(pfn, nr, PageFlags.AnonExclusive);
        FolioAddAnonRmapPtes(head, pfn, nr, dst.Mm);
        dst.Mm.Rss[(int)RssMember.AnonPages] += nr;
        for (int k = i; k < i + nr; k++)
        {
            sp[k] &= ~Pte.Write;
            dp[k] = sp[k] & ~(Pte.Young | Pte.UffdWp);
        }
    }

    /// <summary>
    /// <see cref="ShareForChild"/> for <paramref name="n"/> order-0 folios at consecutive frames, none
    /// maybe pinned: a reference and a PTE mapping more for each (folio_try_dup_anon_rmap_pte()), none
    /// exclusive any more, both sides read-only.
    /// </summary>
    void ShareSmallRunForChild(Vma.Vma dst, ulong[] sp, ulong[] dp, int i, int pfn, int n)
    {
        Map.AddRefRun(pfn, n, 1);
        Map.ClearRange(pfn, n, PageFlags.AnonExclusive);
        NrAnonMapped += Map.AddPteMapcountRun(pfn, n);
        dst.Mm.Rss[(int)RssMember.AnonPages] += n;
        for (int k = i; k < i + n; k++)
        {
            sp[k] &= ~Pte.Write;
            dp[k] = sp[k] & ~(Pte.Young | Pte.UffdWp);
        }
    }

    /// <summary>The work of <paramref name="run"/> order-0 folios, each a batch of its own (of one PTE) with its own rmap update.</summary>
    void SmallFolioBatchesWork(Cost.KernelWork batches, Cost.KernelWork ptes, int run)
    {
        Work(batches, run);
        Work(ptes, run);
        Work(Cost.KernelWork.RmapFolios, run);
        Work(Cost.KernelWork.RmapPages, run);
    }

    /// <summary>
    /// How many PTEs from <paramref name="i"/> (below <paramref name="end"/>) map order-0 anonymous
    /// folios at consecutive frames from <paramref name="pfn"/> that are mapped as <paramref name="mapped"/>
    /// says; the first is counted unchecked.
    /// </summary>
    int SmallAnonRun(ulong[] ptes, int i, int end, int pfn, SmallMapped mapped)
    {
        int n = Pte.ConsecutiveNormal(ptes.AsSpan(i + 1, end - i - 1), pfn + 1);
        return 1 + Map.SmallAnonPrefix(pfn + 1, n, mapped);
    }

    /// <summary>A page cache folio of a private file mapping: the child maps the same pages (folio_dup_file_rmap_ptes()), old, read-only as they are.</summary>
    void DupFileForChild(Vma.Vma dst, ulong[] sp, ulong[] dp, int i, int pfn, int head, int nr)
    {
        Map.AddRef(head, nr);
        FolioAddFileRmapPtes(head, pfn, nr, dst.Mm);
        dst.Mm.Rss[(int)RssMember.ShmemPages] += nr;
        for (int k = i; k < i + nr; k++) dp[k] = sp[k] & ~(Pte.Young | Pte.UffdWp);
    }

    /// <summary>models copy_present_page(): a new exclusive order-0 copy for the child; the parent keeps its page writable.</summary>
    bool CopyPresentPage(Vma.Vma dst, ulong[] dp, int i, int pfn, ulong addr)
    {
        int page = AllocChargedPage(PageKind.Anon, dst.Mm);
        if (page < 0) return false;
        Map.SetContent(page, Map.Content(pfn));
        Work(Cost.KernelWork.PagesCopied);
        FolioAddNewAnonRmap(page, dst, addr, pmdMapped: false);
        dst.Mm.Rss[(int)RssMember.AnonPages]++;
        dp[i] = Pte.Make(page, Pte.Young | Pte.Dirty | ((dst.Flags & VmFlags.Write) != 0 ? Pte.Write : 0));
        return true;
    }

    /// <summary>models folio_needs_cow_for_dma(): the mm has pinned pages and this folio may be pinned.</summary>
    internal bool FolioNeedsCowForDma(MmStruct mm, int head) => mm.HasPinned && FolioMaybeDmaPinned(head);

    /// <summary>models folio_maybe_dma_pinned(): a pin count on large folios, a refcount bias on small ones.</summary>
    internal bool FolioMaybeDmaPinned(int head) =>
        Map.Order(head) > 0 ? Map.LargePincount(head) > 0 : Map.Refcount(head) >= GupPinCountingBias;
}
