namespace MthpSim.Core.PageTable;

/// <summary>
/// One PMD entry of an address space and what hangs below it: the PTE table (an array of packed
/// entries, <see cref="Pte"/>), or the leaf entry of a PMD mapping with its deposited page table.
/// </summary>
public sealed class PmdSlot
{
    public PmdKind Kind;
    /// <summary>The leaf entry when <see cref="Kind"/> is Huge or HugeZero (same bits as a PTE).</summary>
    public ulong Leaf;
    /// <summary>The PTE table when <see cref="Kind"/> is Table; kept (cleared) for reuse otherwise.</summary>
    public ulong[]? Ptes;
    /// <summary>The page frame of the PTE table page, or of the table deposited under a PMD mapping; -1 if none.</summary>
    public int TablePfn = -1;
    /// <summary>
    /// What the program must see in each page of this PMD range (the test oracle behind <c>intact</c>):
    /// the token of its last write, 0 for zeroes; <see cref="MaybeZero"/> set after MADV_FREE.
    /// </summary>
    public uint[]? Expected;
    /// <summary>
    /// <see cref="Expected"/> is shared with a slot of another address space (fork copies it only when
    /// either side first writes it): write it only through <c>Kernel.ExpectedForWrite</c>.
    /// </summary>
    public bool ExpectedShared;
    /// <summary>
    /// arm64: one bit per CONT_PTES-aligned block of <see cref="Ptes"/>, set while the block carries
    /// the contiguous bit (Kernel.ContPte.cs); null until a block is first folded, always on x86_64.
    /// </summary>
    public ulong[]? ContBlocks;

    /// <summary>Expected-content flag: the page may read as its old content or as zeroes (MADV_FREE).</summary>
    public const uint MaybeZero = 1u << 31;
}
