namespace MthpSim.Core.Vma;

/// <summary>A virtual memory area (vm_area_struct): [Start, End) with flags and an anon_vma.</summary>
public sealed class Vma
{
    public ulong Start;
    public ulong End;
    public VmFlags Flags;
    /// <summary>vm_pgoff: for anonymous memory, the start's page number at mmap time.</summary>
    public long PgOff;
    /// <summary>anon_vma id; 0 until the first fault that needs one (anon_vma_prepare()).</summary>
    public int AnonVma;
    /// <summary>
    /// The anon_vmas whose folios this VMA may map (its anon_vma_chain): its own, and after fork its
    /// parent's. An rmap walk of a folio visits every VMA whose chain holds the folio's anon_vma.
    /// </summary>
    public int[] AnonVmaChain = [];
    /// <summary>The address space this VMA belongs to (vm_mm).</summary>
    public MmStruct Mm = null!;

    public ulong Length => End - Start;
    public bool IsAnonymous => true;
    public bool Contains(ulong addr) => addr >= Start && addr < End;

    public Vma Clone() => (Vma)MemberwiseClone();
    public override string ToString() => $"{Start:x}-{End:x} {Flags}";
}
