using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

public sealed partial class Kernel
{
    /// <summary>
    /// models __split_huge_pmd_locked(): turns a PMD mapping into a PTE table mapping the same pages
    /// (the deposited table is used), copying write/dirty/young to every PTE. The folio stays whole.
    /// The huge zero PMD becomes read-only zero-page PTEs.
    /// </summary>
    internal void SplitHugePmd(Vma.Vma vma, PmdSlot slot, ulong haddr)
    {
        Stats.Count(VmEvent.ThpSplitPmd);
        Work(Cost.KernelWork.PmdSplits);
        Work(Cost.KernelWork.TlbFlushes);   // pmdp_invalidate()
        if (slot.Kind == PmdKind.Huge && Map.Kind(Pte.Pfn(slot.Leaf)) == PageKind.Shmem)
        {
            // A file PMD is not split into PTEs: it is cleared, its dirty and young bits going to the
            // folio, and later faults map the pages again.
            int head = Pte.Pfn(slot.Leaf);
            if (Pte.IsDirty(slot.Leaf)) Map.Set(head, PageFlags.Dirty);
            if (Pte.IsYoung(slot.Leaf)) Map.Set(head, PageFlags.Referenced);
            ZapHugePmd(vma.Mm, slot);
            return;
        }
        int nr = Geo.PtrsPerPte;
        var ptes = slot.Ptes ??= new ulong[nr];
        if (slot.Kind == PmdKind.HugeZero)
        {
            Array.Fill(ptes, Pte.ZeroPage | (slot.Leaf & Pte.UffdWp));
        }
        else
        {
            int head = Pte.Pfn(slot.Leaf);
            if (Pte.IsDirty(slot.Leaf)) Map.Set(head, PageFlags.Dirty);   // folio_set_dirty() for a dirty PMD
            ulong flags = slot.Leaf & (Pte.Write | Pte.Dirty | Pte.Young | Pte.UffdWp);
            for (int i = 0; i < nr; i++) ptes[i] = Pte.Make(head + i, flags);
            ContSetPtes(slot, 0, nr);   // set_ptes() of the whole table
            Map.AddRef(head, nr - 1);
            // The head page's exclusivity goes to every page (folio_add_anon_rmap_ptes() with RMAP_EXCLUSIVE).
            if (Map.Test(head, PageFlags.AnonExclusive)) Map.SetRange(head, nr, PageFlags.AnonExclusive);
            FolioAddAnonRmapPtes(head, head, nr, vma.Mm);
            FolioRemoveRmapPmd(head, vma.Mm);
        }
        slot.Kind = PmdKind.Table;
        slot.Leaf = 0;
    }

    /// <summary>
    /// models vma_adjust_trans_huge(): a VMA boundary about to fall at <paramref name="addr"/> inside a
    /// PMD mapping splits that PMD first.
    /// </summary>
    internal void SplitPmdAtBoundary(MmStruct mm, ulong addr)
    {
        if ((addr & ((ulong)Geo.PmdSize - 1)) == 0) return;
        var slot = mm.PageTables.Find(PmdIndex(addr));
        if (slot == null || slot.Kind is not (PmdKind.Huge or PmdKind.HugeZero)) return;
        var vma = mm.FindVma(addr) ?? throw new InvalidOperationException("PMD mapping without a VMA");
        SplitHugePmd(vma, slot, addr & ~((ulong)Geo.PmdSize - 1));
    }
}
