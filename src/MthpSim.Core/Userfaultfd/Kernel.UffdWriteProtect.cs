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
            UffdWpRange(vma, Math.Max(start, vma.Start), Math.Min(end, vma.End), enable);
            err = 0;
        }
        return err;
    }

    /// <summary>
    /// models uffd_wp_range() → change_protection() with MM_CP_UFFD_WP or MM_CP_UFFD_WP_RESOLVE: a
    /// PMD mapping covered whole keeps its PMD, one covered in part is split first. Protecting marks
    /// the entry and takes write away; releasing clears the mark and, in a writable VMA, makes an
    /// exclusive anonymous page writable again (MM_CP_TRY_CHANGE_WRITABLE). Swap entries keep the mark.
    /// </summary>
    void UffdWpRange(Vma.Vma vma, ulong start, ulong end, bool enable)
    {
        bool tryWritable = !enable && (vma.Flags & VmFlags.Write) != 0;
        ulong pmdSize = (ulong)Geo.PmdSize;
        WalkPmdRange(vma.Mm, start, end, (slot, addr, next) =>
        {
            if (slot.Kind is PmdKind.Huge or PmdKind.HugeZero)
            {
                if (next - addr == pmdSize)
                {
                    slot.Leaf = UffdWpEntry(slot.Leaf, enable, tryWritable && slot.Kind == PmdKind.Huge);
                    return;
                }
                SplitHugePmd(vma, slot, addr & ~(pmdSize - 1));
            }
            if (slot.Kind != PmdKind.Table) return;
            var ptes = slot.Ptes!;
            var (first, last) = PteSpan(addr, next);
            for (int i = first; i < last; i++)
            {
                ulong pte = ptes[i];
                if (Pte.IsSwap(pte)) ptes[i] = enable ? pte | Pte.UffdWp : pte & ~Pte.UffdWp;
                else if (Pte.IsPresent(pte) && !Pte.IsNormal(pte)) ptes[i] = UffdWpEntry(pte, enable, false);
            }
            ChangePteProtection(slot, first, last, pte => UffdWpEntry(pte, enable, tryWritable));   // change_pte_range()'s batches
        });
    }

    /// <summary>Takes the userfaultfd write-protect mark off every entry of the VMA, changing nothing else.</summary>
    void ClearUffdWp(Vma.Vma vma)
    {
        WalkPmdRange(vma.Mm, vma.Start, vma.End, (slot, addr, next) =>
        {
            if (slot.Kind is PmdKind.Huge or PmdKind.HugeZero) { slot.Leaf &= ~Pte.UffdWp; return; }
            if (slot.Kind != PmdKind.Table) return;
            var (first, last) = PteSpan(addr, next);
            foreach (ref ulong pte in slot.Ptes.AsSpan(first, last - first)) pte &= ~Pte.UffdWp;
        });
    }

    /// <summary>A present entry (PTE or PMD leaf) under change_pte_range()/change_huge_pmd() with the uffd-wp flags.</summary>
    ulong UffdWpEntry(ulong entry, bool enable, bool mayBecomeWritable)
    {
        if (enable) return (entry & ~Pte.Write) | Pte.UffdWp;
        // vm_page_prot of a write-protect registered VMA has no write bit: write comes back only by the upgrade.
        entry &= ~(Pte.UffdWp | Pte.Write);
        if (mayBecomeWritable && Map.Kind(Pte.Pfn(entry)) == PageKind.Anon && Map.Test(Pte.Pfn(entry), PageFlags.AnonExclusive)) entry |= Pte.Write;
        return entry;
    }
}
