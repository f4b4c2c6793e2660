namespace MthpSim.Core;

// vm_area_structs as kernel memory: a slab object charged to the group of the task that made the
// VMA, given back when the VMA goes; a merge leaves one object where there were two.
public sealed partial class Kernel
{
    /// <summary>models vm_area_alloc() and vm_area_dup(): the new VMA's object, charged to its mm's group. False when the charge fails.</summary>
    bool ChargeVmArea(Vma.Vma vma)
    {
        if (!ChargeKernelObject(vma.Mm, VmaObjectBytes)) return false;
        vma.ObjCg = vma.Mm.Memcg;
        return true;
    }

    /// <summary>models remove_vma(): a VMA out of its tree gives back its anon_vma links (unlink_anon_vmas()) and its object (vm_area_free()).</summary>
    void FreeVma(Vma.Vma vma)
    {
        UnlinkAnonVmas(vma);
        FreeKernelObject(vma.ObjCg, VmaObjectBytes);
        vma.ObjCg = null;
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
            (gone.AnonVma, gone.AnonVmaChain, gone.AvcCg) = (0, [], null);
        }
        if (keep.ObjCg == null) (keep.ObjCg, gone.ObjCg) = (gone.ObjCg, null);
        mm.Vmas.Absorb(keep, gone);
        FreeVma(gone);
    }

    /// <summary>Whether a new VMA would merge with the VMA ending at its start or the one starting at its end (vma_merge_new_range(), tried before any object is made).</summary>
    bool MergesWithNeighbour(Vma.MmStruct mm, Vma.Vma vma)
    {
        ulong page = (ulong)Geo.PageSize;
        if (vma.Start >= page && mm.FindVma(vma.Start - page) is { } prev && prev.End == vma.Start && CanMerge(prev, vma)) return true;
        return mm.FindVma(vma.End) is { } next && next.Start == vma.End && CanMerge(vma, next);
    }
}
