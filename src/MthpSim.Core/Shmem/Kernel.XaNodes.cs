using MthpSim.Core.Memcg;
using MthpSim.Core.Shmem;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

public sealed partial class Kernel
{
    /// <summary>The charged size of an xa_node: its slab object (radix_tree_node, 584 bytes with SLUB's free pointer) and the obj_cgroup pointer.</summary>
    const int XaNodeObjectBytes = 592;

    /// <summary>
    /// models the accounted xa_node allocations of xas_create() (retried through xas_nomem()) and
    /// their frees (xa_node_free()). The xa_nodes a page cache operation on <paramref name="f"/> made and freed: each new node is
    /// charged to <paramref name="charger"/>'s group (the task that stores; none for the kernel's own
    /// threads and the file statements) with <paramref name="gfp"/>, each freed one uncharged from the
    /// group it was charged to. Uncharged at once, where the kernel frees a node after an RCU grace period.
    /// False when a charge failed (xas_nomem() could not allocate: the store fails with -ENOMEM).
    /// The first <paramref name="precharged"/> nodes made were charged to its task's group as a split
    /// made them (xas_try_split()); they only take the group's id here.
    /// </summary>
    bool SettleXaNodes(ShmemFile f, MmStruct? charger, ChargeGfp gfp = ChargeGfp.Kernel, (MmStruct? Mm, int Nodes) precharged = default)
    {
        if (!f.Cache.Nodes.Unsettled) return true;   // most stores fill a slot of a node that exists
        f.Cache.SettleNodes(out var made, out var freed);
        bool ok = true;
        if (made != null && precharged.Mm?.Memcg is { } owner)
        {
            var real = made.Where(n => n.Real).Take(precharged.Nodes).ToList();
            System.Diagnostics.Debug.Assert(real.Count == precharged.Nodes, "a split charged a node it did not make");
            foreach (var n in real) n.Memcg = owner.Id;
        }
        if (made != null && charger?.Memcg is { } cg)
            foreach (var n in made)
            {
                // a reclaim in an earlier charge may have freed it; one that cannot be charged stays uncharged
                if (!n.Real || n.Memcg != 0) continue;
                if (!(ok = ChargeKernelObject(charger, XaNodeObjectBytes, gfp))) break;
                n.Memcg = cg.Id;
            }
        if (freed != null)
            foreach (ushort id in freed) FreeKernelObject(MemcgOfId(id), XaNodeObjectBytes);
        return ok;
    }
}
