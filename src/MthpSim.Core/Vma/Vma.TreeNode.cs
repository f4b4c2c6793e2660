namespace MthpSim.Core.Vma;

// The VMA as a node of its mm's VmaTree (the tree is intrusive: no node objects besides the VMAs).
public sealed partial class Vma
{
    /// <summary>The tree holding this VMA, or null while it is in none.</summary>
    internal VmaTree? Tree;
    internal Vma? Left, Right, Parent;
    /// <summary>The VMAs before and after this one in address order (vm_prev and vm_next of kernels before the maple tree).</summary>
    internal Vma? VmPrev, VmNext;
    /// <summary>Rank in the relaxed AVL tree (<see cref="VmaTree"/>): a leaf has 0, a missing child counts -1.</summary>
    internal int Rank;
    /// <summary>The gap between the VMA before this one (in the whole tree) and this one; 0 for the first.</summary>
    internal ulong GapBefore;
    /// <summary>The largest <see cref="GapBefore"/> in the subtree rooted here.</summary>
    internal ulong SubtreeMaxGap;

    /// <summary>Writes the range of a linked VMA; only <see cref="VmaTree"/> calls it, then fixes the augmentation.</summary>
    internal void StoreRange(ulong start, ulong end) => (_start, _end) = (start, end);

    internal void Unlink()
    {
        Tree = null;
        Left = Right = Parent = null;
        VmPrev = VmNext = null;
        Rank = 0;
        GapBefore = SubtreeMaxGap = 0;
    }
}
