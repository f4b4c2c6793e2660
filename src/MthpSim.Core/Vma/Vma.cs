namespace MthpSim.Core.Vma;

/// <summary>A virtual memory area (vm_area_struct): [Start, End) with flags and an anon_vma.</summary>
public sealed partial class Vma
{
    ulong _start, _end;

    /// <summary>vm_start. Settable only while the VMA is in no tree; a linked VMA moves through <see cref="VmaTree.SetRange"/>.</summary>
    public ulong Start { get => _start; set { ThrowIfLinked(); _start = value; } }
    /// <summary>vm_end. Settable only while the VMA is in no tree; a linked VMA moves through <see cref="VmaTree.SetRange"/>.</summary>
    public ulong End { get => _end; set { ThrowIfLinked(); _end = value; } }
    public VmFlags Flags;
    /// <summary>vm_pgoff: for anonymous memory, the start's page number at mmap time; for a file, the page offset in it of Start.</summary>
    public long PgOff;
    /// <summary>anon_vma id; 0 until the first fault that needs one (anon_vma_prepare()).</summary>
    public int AnonVma;
    /// <summary>
    /// The anon_vmas whose folios this VMA may map (its anon_vma_chain): its own, and after fork its
    /// parent's. An rmap walk of a folio visits every VMA whose chain holds the folio's anon_vma.
    /// </summary>
    public int[] AnonVmaChain = [];
    /// <summary>
    /// The id of the group its vm_area_struct is charged to (0: none, as for a process in the root
    /// group). An id, not a reference: it fits the object's padding, and 100,000 VMAs showed the
    /// difference.
    /// </summary>
    internal ushort ObjCg;
    /// <summary>The id of the group its anon_vma_chain entries (one per <see cref="AnonVmaChain"/> element) are charged to.</summary>
    internal ushort AvcCg;
    /// <summary>vm_file: the shmem file mapped (a memfd, a tmpfs file, or a shared anonymous mapping's), or null for anonymous memory.</summary>
    public Shmem.ShmemFile? File;
    /// <summary>
    /// When this VMA's anon_vma_chain entries were last put into the anon_vma interval trees (a
    /// per-kernel count; 0 while it has none). Those trees are keyed by vm_pgoff and place a new
    /// entry after existing ones with the same key, so an rmap walk meets VMAs in (PgOff, RmapSeq)
    /// order. Set through <see cref="Kernel.AnonVmaRelink"/>.
    /// </summary>
    public long RmapSeq;
    /// <summary>swap_readahead_info: the last swap fault's address, read-ahead window and hits, packed (0: none yet).</summary>
    public long SwapReadaheadInfo;
    /// <summary>The address space this VMA belongs to (vm_mm).</summary>
    public MmStruct Mm = null!;

    /// <summary>A VMA with no range yet: set Start and End before it goes into a tree.</summary>
    public Vma() { }

    /// <summary>A VMA of [start, end), in no tree yet.</summary>
    internal Vma(ulong start, ulong end) => (_start, _end) = (start, end);

    public ulong Length => End - Start;
    /// <summary>vma_is_anonymous(): no file behind it.</summary>
    public bool IsAnonymous => File == null;
    /// <summary>VM_SHARED: writes go to the file, seen by every process mapping it.</summary>
    public bool IsShared => (Flags & VmFlags.Shared) != 0;
    public bool Contains(ulong addr) => addr >= Start && addr < End;

    /// <summary>A copy with the same range and attributes, in no tree (vm_area_dup()).</summary>
    public Vma Clone()
    {
        var c = (Vma)MemberwiseClone();
        c.Unlink();
        return c;
    }

    public override string ToString() => $"{Start:x}-{End:x} {Flags}";

    // The tree's keys and gap augmentation depend on the range: changing it behind the tree's back would corrupt them.
    void ThrowIfLinked()
    {
        if (Tree != null) throw new InvalidOperationException($"VMA {this} is in a tree: change its range with VmaTree.SetRange");
    }
}
