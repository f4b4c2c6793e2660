using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// models arch/arm64/mm/contpte.c and the contpte wrappers of arch/arm64/include/asm/pgtable.h:
// which naturally aligned blocks of CONT_PTES entries carry the contiguous bit. The bit lives in
// PmdSlot.ContBlocks rather than in the entries, so that code comparing entries needs no change;
// within a folded block the access and dirty bits are kept alike in every entry, which is what
// ptep_get()'s gathering of them makes the kernel see.
public sealed partial class Kernel
{
    static readonly ulong AccessBits = Pte.Young | Pte.Dirty;

    /// <summary>Whether the block holding entry <paramref name="idx"/> of <paramref name="slot"/> is folded.</summary>
    internal bool ContFolded(PmdSlot slot, int idx)
    {
        if (slot.ContBlocks is not { } bits) return false;
        int block = idx / Geo.ContPtes;
        return (bits[block >> 6] & (1UL << (block & 63))) != 0;
    }

    void SetContBlock(PmdSlot slot, int block, bool folded)
    {
        var bits = slot.ContBlocks ??= new ulong[(Geo.PtrsPerPte / Geo.ContPtes + 63) / 64];
        if (folded) bits[block >> 6] |= 1UL << (block & 63);
        else bits[block >> 6] &= ~(1UL << (block & 63));
    }

    /// <summary>Folded blocks in <paramref name="slot"/>.</summary>
    internal int ContBlockCount(PmdSlot slot) =>
        slot.ContBlocks is { } bits ? bits.Sum(b => System.Numerics.BitOperations.PopCount(b)) : 0;

    /// <summary>The table is gone or replaced (freed, collapsed to a PMD): no block of it is folded.</summary>
    internal static void ContForget(PmdSlot slot) => slot.ContBlocks = null;

    /// <summary>
    /// Whether the block starting at entry <paramref name="first"/> could carry the contiguous bit
    /// (__contpte_try_fold()'s test): every entry present and not special, the page frames
    /// consecutive from a CONT_PTES-aligned one, all inside one folio, the same bits but access and dirty.
    /// </summary>
    internal bool ContFoldable(ulong[] ptes, int first)
    {
        int n = Geo.ContPtes;
        ulong head = ptes[first];
        if (!Pte.IsNormal(head)) return false;
        int pfn = Pte.Pfn(head);
        if ((pfn & (n - 1)) != 0 || Map.Order(pfn) == 0 || Map.HeadOf(pfn) != Map.HeadOf(pfn + n - 1)) return false;
        for (int i = 1; i < n; i++)
        {
            ulong pte = ptes[first + i];
            if (Pte.Pfn(pte) != pfn + i || ((pte ^ head) & ~AccessBits & Pte.FlagBits) != 0) return false;
        }
        return true;
    }

    // models contpte_convert(): every entry of the block rewritten with the access and dirty bits of all of them, and a TLB flush
    void ContConvert(PmdSlot slot, int block, bool fold)
    {
        var ptes = slot.Ptes!;
        int first = block * Geo.ContPtes, end = first + Geo.ContPtes;
        ulong gathered = 0;
        for (int i = first; i < end; i++) gathered |= ptes[i] & AccessBits;
        for (int i = first; i < end; i++) ptes[i] |= gathered;
        SetContBlock(slot, block, fold);
        Work(Cost.KernelWork.TlbFlushes);
        if (fold) Paths.ContFold++;
        else Paths.ContUnfold++;
    }

    // models contpte_try_unfold()
    internal void ContTryUnfold(PmdSlot slot, int idx)
    {
        if (ContFolded(slot, idx)) ContConvert(slot, idx / Geo.ContPtes, fold: false);
    }

    // models contpte_try_unfold_partial(): a batch of nr entries from idx unfolds the blocks it covers only in part
    internal void ContUnfoldPartial(PmdSlot slot, int idx, int nr)
    {
        if (slot.ContBlocks == null) return;
        int n = Geo.ContPtes;
        if ((idx & (n - 1)) != 0 || nr < n) ContTryUnfold(slot, idx);
        if (((idx + nr) & (n - 1)) != 0) ContTryUnfold(slot, idx + nr - 1);
    }

    // models contpte_get_and_clear_full_ptes() and contpte_clear_full_ptes(), before entries
    // [idx, idx + nr) are cleared: blocks covered in part unfold, blocks covered whole lose the bit with their entries
    internal void ContClearPtes(PmdSlot slot, int idx, int nr)
    {
        if (slot.ContBlocks == null) return;
        ContUnfoldPartial(slot, idx, nr);
        int n = Geo.ContPtes;
        for (int first = (idx + n - 1) & ~(n - 1); first + n <= idx + nr; first += n)
            SetContBlock(slot, first / n, false);
    }

    // models wrprotect_ptes() → contpte_wrprotect_ptes(): write-protecting a batch that holds a
    // writable entry unfolds the blocks it covers only in part; blocks covered whole stay folded
    internal void ContWrprotectPtes(PmdSlot slot, int idx, int nr)
    {
        if (slot.ContBlocks == null) return;
        var ptes = slot.Ptes!;
        for (int i = idx; i < idx + nr; i++)
            if (Pte.IsWrite(ptes[i])) { ContUnfoldPartial(slot, idx, nr); return; }
    }

    // models contpte_try_fold(): a single entry written at the last slot of a block, with the last page frame of an aligned run, may fold it
    internal void ContTryFold(PmdSlot slot, int idx)
    {
        int n = Geo.ContPtes;
        if (n == 0 || (idx & (n - 1)) != n - 1) return;
        ulong pte = slot.Ptes![idx];
        if (!Pte.IsNormal(pte) || (Pte.Pfn(pte) & (n - 1)) != n - 1 || ContFolded(slot, idx)) return;
        if (ContFoldable(slot.Ptes, idx - (n - 1))) ContConvert(slot, idx / n, fold: true);
    }

    // models set_ptes() after the entries are written: one entry may fold its block
    // (contpte_try_fold()); more set the bit on every aligned block they cover whole with an aligned page frame (contpte_set_ptes())
    internal void ContSetPtes(PmdSlot slot, int idx, int nr)
    {
        int n = Geo.ContPtes;
        if (n == 0) return;
        if (nr == 1) { ContTryFold(slot, idx); return; }
        var ptes = slot.Ptes!;
        int end = idx + nr;
        for (int first = (idx + n - 1) & ~(n - 1); first + n <= end; first += n)
            if ((Pte.Pfn(ptes[first]) & (n - 1)) == 0 && Pte.IsNormal(ptes[first]))
            {
                // one entry value for the whole call: the access and dirty bits are the block's
                ulong gathered = 0;
                for (int i = first; i < first + n; i++) gathered |= ptes[i] & AccessBits;
                for (int i = first; i < first + n; i++) ptes[i] |= gathered;
                SetContBlock(slot, first / n, true);
                Paths.ContSet++;
            }
    }

    /// <summary>
    /// Sets <paramref name="bits"/> (access, dirty) on entry <paramref name="idx"/>, and on the whole
    /// block when it is folded: what ptep_get() then reports for every entry of it.
    /// </summary>
    internal void ContSetAccessBits(PmdSlot slot, int idx, ulong bits)
    {
        slot.Ptes![idx] |= bits;
        ContSpreadAccessBits(slot, idx, 1, bits);
    }

    /// <summary>After entries [idx, idx + nr) were given <paramref name="bits"/>: every folded block among them gets them whole.</summary>
    internal void ContSpreadAccessBits(PmdSlot slot, int idx, int nr, ulong bits)
    {
        if (slot.ContBlocks == null || nr == 0) return;
        int n = Geo.ContPtes;
        var ptes = slot.Ptes!;
        for (int first = idx & ~(n - 1); first < idx + nr; first += n)
            if (ContFolded(slot, first))
                for (int i = first; i < first + n; i++) ptes[i] |= bits;
    }

    // models contpte_clear_young_dirty_ptes() and contpte_ptep_test_and_clear_young(): clearing access
    // or dirty bits of entries [idx, idx + nr) clears them in the whole of a folded block at either end
    internal void ContClearAccessBits(PmdSlot slot, int idx, int nr, ulong bits)
    {
        var ptes = slot.Ptes!;
        int start = idx, end = idx + nr;
        if (slot.ContBlocks != null)
        {
            int n = Geo.ContPtes;
            if (ContFolded(slot, idx)) start = idx & ~(n - 1);
            if (ContFolded(slot, end - 1)) end = (end + n - 1) & ~(n - 1);
        }
        for (int i = start; i < end; i++) ptes[i] &= ~bits;
    }

    /// <summary>
    /// models move_ptes() on arm64: an entry of a folded block moves with the rest of its folio's run
    /// (mremap_folio_pte_batch(): consecutive pages, the same bits but access and dirty), any other
    /// alone; each batch is taken with get_and_clear_ptes() and set at the new place with set_ptes(),
    /// so blocks whole and aligned there fold, and a lone entry ending an aligned block may fold it.
    /// </summary>
    internal void MovePtesContPte(PmdSlot src, int si, PmdSlot dst, int di, int n)
    {
        var sp = src.Ptes!;
        var dp = dst.Ptes!;
        for (int i = 0; i < n;)
        {
            int s = si + i;
            ulong pte = sp[s];
            if (pte == 0) { i++; continue; }
            int nr = 1;
            if (Pte.IsNormal(pte) && ContFolded(src, s))
            {
                int pfn = Pte.Pfn(pte), head = Map.HeadOf(pfn), folioEnd = head + (1 << Map.Order(head));
                while (i + nr < n && pfn + nr < folioEnd && Pte.IsNormal(sp[s + nr]) && Pte.Pfn(sp[s + nr]) == pfn + nr
                       && ((sp[s + nr] ^ pte) & ~AccessBits & Pte.FlagBits) == 0)
                    nr++;
            }
            ContClearPtes(src, s, nr);
            Array.Copy(sp, s, dp, di + i, nr);
            Array.Clear(sp, s, nr);
            SetPtesWork(nr);
            if (Pte.IsNormal(pte)) ContSetPtes(dst, di + i, nr);
            i += nr;
        }
    }

    /// <summary>kB of <paramref name="mm"/>'s memory in [start, end) mapped by PTEs with the contiguous bit (always 0 on x86_64).</summary>
    public long ContPteKb(MmStruct mm, ulong start, ulong end) => ContPteBytes(mm, start, end) >> 10;

    /// <summary>Bytes of <paramref name="mm"/>'s memory in [start, end) mapped by entries with the contiguous bit.</summary>
    internal long ContPteBytes(MmStruct mm, ulong start, ulong end)
    {
        if (Geo.ContPtes == 0) return 0;
        long bytes = 0;
        for (ulong a = start & ~((ulong)Geo.PmdSize - 1); a < end; a += (ulong)Geo.PmdSize)
        {
            var slot = mm.PageTables.Find((long)(a / (ulong)Geo.PmdSize));
            if (slot?.ContBlocks == null || slot.Kind != PmdKind.Table) continue;
            ulong blockBytes = (ulong)(Geo.ContPtes * Geo.PageSize);
            for (int i = 0; i < Geo.PtrsPerPte; i += Geo.ContPtes)
            {
                ulong va = a + (ulong)i * (ulong)Geo.PageSize;
                if (va >= end) break;
                if (va + blockBytes <= start || !ContFolded(slot, i)) continue;
                bytes += (long)(Math.Min(end, va + blockBytes) - Math.Max(start, va));
            }
        }
        return bytes;
    }
}
