using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/userfaultfd.c mwriteprotect_range() and the uffd-wp part of mm/mprotect.c change_protection().
public sealed partial class Kernel
{
    /// <summary>
    /// models userfaultfd_writeprotect() → mwriteprotect_range(): sets (<paramref name="enable"/>) or
    /// clears userfaultfd write protection on what is mapped in the range, VMA by VMA; each VMA must be
    /// registered in write-protect mode (-ENOENT, after changing the VMAs before it). Holes are skipped.
    /// </summary>
    public long UffdWriteProtect(MmStruct mm, ulong start, ulong len, bool enable)
    {
        if (ValidateUffdRange(start, len) is var bad and < 0) return bad;
        ulong end = start + len;
        long err = -Errno.ENOENT;
        foreach (var vma in mm.Intersecting(start, end).ToList())
        {
            if ((vma.Flags & VmFlags.UffdWp) == 0) return -Errno.ENOENT;
            err = UffdWpRange(vma, Math.Max(start, vma.Start), Math.Min(end, vma.End), enable);
            if (err < 0) return err;
        }
        return err;
    }

    /// <summary>
    /// models uffd_wp_range() → change_protection() with MM_CP_UFFD_WP or MM_CP_UFFD_WP_RESOLVE. In
    /// anonymous memory a PMD mapping covered whole keeps its PMD, one covered in part is split
    /// first. A file mapping cannot mark a PMD: protecting drops the PMD mapping
    /// (pgtable_split_needed()), gives every PMD of the range a PTE table (change_pmd_prepare()) and
    /// puts a uffd-wp marker in each empty entry, so that pages mapped later stay protected;
    /// releasing clears the markers. Protecting marks the entry and takes write away; releasing
    /// clears the mark and, in a writable private VMA, makes an exclusive anonymous page writable again
    /// (MM_CP_TRY_CHANGE_WRITABLE); a shared mapping's pages stay read-only until written. Swap
    /// entries keep the mark.
    /// -ENOMEM when a page table cannot be had.
    /// </summary>
    long UffdWpRange(Vma.Vma vma, ulong start, ulong end, bool enable)
    {
        bool tryWritable = !enable && (vma.Flags & VmFlags.Write) != 0;
        bool markers = vma.File != null;
        ulong pmdSize = (ulong)Geo.PmdSize;
        var mm = vma.Mm;
        for (ulong addr = start; addr < end;)
        {
            ulong next = Math.Min((addr & ~(pmdSize - 1)) + pmdSize, end);
            var slot = mm.PageTables.Find(PmdIndex(addr));
            if (slot is { Kind: PmdKind.Huge or PmdKind.HugeZero })
            {
                if (next - addr == pmdSize && !(markers && enable))
                    slot.Leaf = UffdWpEntry(vma, slot.Leaf, enable, tryWritable && slot.Kind == PmdKind.Huge);
                else SplitHugePmd(vma, slot, addr & ~(pmdSize - 1));
            }
            if (markers && enable && slot is not { Kind: PmdKind.Huge or PmdKind.HugeZero or PmdKind.Table })
            {
                // change_pmd_prepare(): a PTE table under the empty PMD, for the markers
                if (!PmdAlloc(mm, PmdIndex(addr))) return -Errno.ENOMEM;
                slot = mm.PageTables.GetOrCreate(PmdIndex(addr));
                if (!InstallPteTable(mm, slot)) return -Errno.ENOMEM;
            }
            if (slot is { Kind: PmdKind.Table }) UffdWpPtes(vma, slot, addr, next, enable, tryWritable, markers);
            addr = next;
        }
        return 0;
    }

    /// <summary>models change_pte_range() with the uffd-wp flags over one table.</summary>
    void UffdWpPtes(Vma.Vma vma, PmdSlot slot, ulong addr, ulong next, bool enable, bool tryWritable, bool markers)
    {
        var ptes = slot.Ptes!;
        var (first, last) = PteSpan(addr, next);
        for (int i = first; i < last; i++)
        {
            ulong pte = ptes[i];
            if (Pte.IsSwap(pte)) ptes[i] = enable ? pte | Pte.UffdWp : pte & ~Pte.UffdWp;
            else if (Pte.IsMarker(pte)) { if (!enable) ptes[i] = 0; }
            else if (pte == 0) { if (markers && enable) ptes[i] = Pte.UffdWpMarker; }
            else if (!Pte.IsNormal(pte)) ptes[i] = UffdWpEntry(vma, pte, enable, false);
        }
        ChangePteProtection(slot, first, last, pte => UffdWpEntry(vma, pte, enable, tryWritable));   // change_pte_range()'s batches
    }

    /// <summary>Takes the userfaultfd write-protect mark off every entry of the VMA and drops its markers, changing nothing else.</summary>
    void ClearUffdWp(Vma.Vma vma)
    {
        WalkPmdRange(vma.Mm, vma.Start, vma.End, (slot, addr, next) =>
        {
            if (slot.Kind is PmdKind.Huge or PmdKind.HugeZero) { slot.Leaf &= ~Pte.UffdWp; return; }
            if (slot.Kind != PmdKind.Table) return;
            var (first, last) = PteSpan(addr, next);
            foreach (ref ulong pte in slot.Ptes.AsSpan(first, last - first)) pte = Pte.IsMarker(pte) ? 0 : pte & ~Pte.UffdWp;
        });
    }

    /// <summary>A present entry (PTE or PMD leaf) under change_pte_range()/change_huge_pmd() with the uffd-wp flags.</summary>
    ulong UffdWpEntry(Vma.Vma vma, ulong entry, bool enable, bool mayBecomeWritable)
    {
        if (enable) return (entry & ~Pte.Write) | Pte.UffdWp;
        // vm_page_prot of a write-protect registered VMA has no write bit: write comes back only by the upgrade.
        entry &= ~(Pte.UffdWp | Pte.Write);
        if (mayBecomeWritable && CanBecomeWritable(entry, vma.IsShared, uffdWp: true)) entry |= Pte.Write;
        return entry;
    }
}
