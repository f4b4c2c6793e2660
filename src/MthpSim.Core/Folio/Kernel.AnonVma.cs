using MthpSim.Core.Memcg;

namespace MthpSim.Core;

// The anon_vma objects of mm/rmap.c as kernel memory: an anon_vma and one anon_vma_chain entry per
// (VMA, anon_vma) link, slab objects charged to the group of the task that allocated them and
// freed when the last VMA linking them goes (an anon_vma made by fork lives until its descendants go).
public sealed partial class Kernel
{
    /// <summary>sizeof(struct anon_vma) with the obj_cgroup pointer.</summary>
    const int AnonVmaObjectBytes = 112;
    /// <summary>sizeof(struct anon_vma_chain) with the obj_cgroup pointer.</summary>
    const int AnonVmaChainObjectBytes = 72;

    /// <summary>
    /// An anon_vma's life: the group it is charged to, how many VMAs link it (its interval tree's
    /// entries), its root, and, for a root, how many anon_vmas made from it by fork are alive (each
    /// holds a reference to the root).
    /// </summary>
    sealed class AnonVmaObject(MemCgroup? cg, int root)
    {
        public readonly MemCgroup? Cg = cg;
        public readonly int Root = root;
        public int Links, RootRefs;
    }

    /// <summary>The live anon_vmas by id (looked up by key only: no iteration reaches a result).</summary>
    readonly Dictionary<int, AnonVmaObject> _anonVmas = new();

    /// <summary>models anon_vma_alloc(): a new anon_vma charged to <paramref name="cg"/>, its own root or under <paramref name="root"/>.</summary>
    int AnonVmaAlloc(MemCgroup? cg, int root = 0)
    {
        int id = _nextAnonVma++;
        _anonVmas.Add(id, new AnonVmaObject(cg, root == 0 ? id : root));
        if (root != 0) _anonVmas[root].RootRefs++;   // get_anon_vma(anon_vma->root)
        return id;
    }

    /// <summary>models anon_vma_chain_link() for every entry of the VMA's chain: each anon_vma gains a link.</summary>
    void AnonVmaLinkChain(Vma.Vma vma)
    {
        foreach (int id in vma.AnonVmaChain) _anonVmas[id].Links++;
    }

    /// <summary>
    /// models anon_vma_prepare(): gives the VMA an anon_vma on the first fault that needs one, a
    /// neighbour's where find_mergeable_anon_vma() finds one, else a new one. Charges the chain entry
    /// and the new anon_vma (GFP_KERNEL); false when a charge fails (the fault is VM_FAULT_OOM).
    /// </summary>
    internal bool AnonVmaPrepare(Vma.Vma vma)
    {
        if (vma.AnonVma != 0) return true;
        var mm = vma.Mm;
        if (!ChargeKernelObject(mm, AnonVmaChainObjectBytes)) return false;   // anon_vma_chain_alloc()
        int anonVma = FindMergeableAnonVma(vma);
        if (anonVma == 0)
        {
            if (!ChargeKernelObject(mm, AnonVmaObjectBytes))
            {
                FreeKernelObject(mm.Memcg, AnonVmaChainObjectBytes);
                return false;
            }
            anonVma = AnonVmaAlloc(mm.Memcg);
        }
        System.Diagnostics.Debug.Assert(vma.AnonVmaChain.Length == 0, "a VMA without an anon_vma has no chain");
        vma.AnonVma = anonVma;
        vma.AnonVmaChain = [anonVma];
        vma.AvcCg = ObjCgIdOf(mm);
        _anonVmas[anonVma].Links++;
        AnonVmaRelink(vma);
        return true;
    }

    /// <summary>models find_mergeable_anon_vma(): the anon_vma of the next VMA, else of the previous one, if reusable.</summary>
    int FindMergeableAnonVma(Vma.Vma vma)
    {
        if (vma.VmNext is { } next && ReusableAnonVma(next, vma, next) is var fromNext and not 0) return fromNext;
        return vma.VmPrev is { } prev ? ReusableAnonVma(prev, prev, vma) : 0;
    }

    /// <summary>
    /// models reusable_anon_vma() with anon_vma_compatible(): <paramref name="a"/> ends where
    /// <paramref name="b"/> starts, same file and offsets in line, flags equal but for the access
    /// bits; <paramref name="old"/>'s anon_vma is taken if its chain holds only it (not a fork child).
    /// </summary>
    int ReusableAnonVma(Vma.Vma old, Vma.Vma a, Vma.Vma b)
    {
        const Vma.VmFlags access = Vma.VmFlags.Read | Vma.VmFlags.Write | Vma.VmFlags.Exec;
        bool compatible = a.End == b.Start && a.File == b.File && ((a.Flags ^ b.Flags) & ~access) == 0
            && b.PgOff == a.PgOff + (long)((b.Start - a.Start) >> PageShift);
        return compatible && old.AnonVma != 0 && old.AnonVmaChain.Length == 1 ? old.AnonVma : 0;
    }

    /// <summary>
    /// models unlink_anon_vmas(): the VMA's chain entries are freed, and each anon_vma left with no
    /// VMA is put (freed unless it is a root that anon_vmas made by fork still refer to).
    /// </summary>
    void UnlinkAnonVmas(Vma.Vma vma)
    {
        var chain = vma.AnonVmaChain;
        if (chain.Length == 0) return;
        var cg = MemcgOfId(vma.AvcCg);
        for (int i = 0; i < chain.Length; i++) FreeKernelObject(cg, AnonVmaChainObjectBytes);
        // newest to oldest, so that a root goes last
        for (int i = chain.Length - 1; i >= 0; i--)
            if (--_anonVmas[chain[i]].Links == 0) PutAnonVma(chain[i]);
        (vma.AnonVma, vma.AnonVmaChain, vma.AvcCg) = (0, [], 0);
    }

    /// <summary>models put_anon_vma() → __put_anon_vma(): frees an anon_vma no VMA and no descendant refers to; a freed non-root drops its root's reference.</summary>
    void PutAnonVma(int id)
    {
        var a = _anonVmas[id];
        if (a.Links != 0 || a.RootRefs != 0) return;
        _anonVmas.Remove(id);
        FreeKernelObject(a.Cg, AnonVmaObjectBytes);
        if (a.Root == id) return;
        _anonVmas[a.Root].RootRefs--;
        PutAnonVma(a.Root);
    }
}
