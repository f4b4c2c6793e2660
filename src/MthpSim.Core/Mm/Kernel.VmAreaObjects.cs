namespace MthpSim.Core;

// vm_area_structs as kernel memory: a slab object charged to the group of the task that made the
// VMA, given back when the VMA goes; a merge leaves one object where there were two.
public sealed partial class Kernel
{
    /// <summary>models vm_area_alloc() and vm_area_dup(): the new VMA's object, charged to its mm's group. False when the charge fails.</summary>
    bool ChargeVmArea(Vma.Vma vma)
    {
        if (!ChargeKernelObject(vma.Mm, VmaObjectBytes)) return false;
        vma.ObjCg = ObjCgIdOf(vma.Mm);
        return true;
    }

    /// <summary>models remove_vma(): a VMA out of its tree gives back its anon_vma links (unlink_anon_vmas()) and its object (vm_area_free()).</summary>
    void FreeVma(Vma.Vma vma)
    {
        UnlinkAnonVmas(vma);
        FreeKernelObject(MemcgOfId(vma.ObjCg), VmaObjectBytes);
        vma.ObjCg = 0;
    }

    /// <summary>
    /// Merges <paramref name="gone"/> into <paramref name="keep"/> (adjacent and mergeable): keep
    /// takes gone's anon_vma if it has none (dup_anon_vma()), and gone's object if it has none (a
    /// new mapping merged into a neighbour made no object: the neighbour's is the one kept); what
    /// is left of gone is freed.
    /// </summary>
    void AbsorbVma(Vma.MmStruct mm, Vma.Vma keep, Vma.Vma gone)
    {
        if (keep.AnonVma == 0)
        {
            (keep.AnonVma, keep.AnonVmaChain, keep.AvcCg) = (gone.AnonVma, gone.AnonVmaChain, gone.AvcCg);
            (gone.AnonVma, gone.AnonVmaChain, gone.AvcCg) = (0, [], 0);
        }
        if (keep.ObjCg == 0) (keep.ObjCg, gone.ObjCg) = (gone.ObjCg, 0);
        mm.Vmas.Absorb(keep, gone);
        FreeVma(gone);
    }

    /// <summary>
    /// models __mmap_region() for a new VMA already in its tree: vma_merge_new_range() first (a
    /// merged range makes no object), else the new VMA's object is charged (vm_area_alloc()) unless
    /// the caller <paramref name="charged"/> it already. False when that charge fails: the VMA is
    /// out of the tree again.
    /// </summary>
    bool MergeOrChargeNewVma(Vma.MmStruct mm, Vma.Vma vma, bool charged, out bool merged)
    {
        merged = MergeAround(mm, vma);
        if (merged || charged || ChargeVmArea(vma)) return true;
        mm.Vmas.Remove(vma);
        return false;
    }
}
