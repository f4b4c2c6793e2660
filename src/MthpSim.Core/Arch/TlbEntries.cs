namespace MthpSim.Core.Arch;

/// <summary>
/// The TLB entries that map a process's present memory, each entry mapping what one page-table
/// entry does: a PTE one base page, a PMD leaf its PMD size, and on arm64 a block of CONT_PTES PTEs
/// with the contiguous bit one entry of the block's size (docs/cost-model.md, "TLB reach"). The
/// shared and huge zero pages count: a load from them needs an entry as any other.
/// </summary>
/// <param name="BasePages">Entries for one base page each (present PTEs outside folded blocks).</param>
/// <param name="ContBlocks">arm64: folded blocks, one entry each; 0 on x86_64.</param>
public sealed record TlbEntries(long BasePages, long PmdMappings, long BasePageBytes, long PmdBytes, long ContBlocks = 0, long ContBytes = 0)
{
    public long Total => BasePages + ContBlocks + PmdMappings;

    /// <summary>Memory all the entries map.</summary>
    public long MappedBytes => BasePages * BasePageBytes + ContBlocks * ContBytes + PmdMappings * PmdBytes;

    /// <summary>The memory a TLB of <paramref name="entries"/> entries reaches when it holds the largest mappings.</summary>
    public long ReachBytes(long entries)
    {
        long pmd = Math.Min(entries, PmdMappings);
        long cont = Math.Min(entries - pmd, ContBlocks);
        long small = Math.Min(entries - pmd - cont, BasePages);
        return pmd * PmdBytes + cont * ContBytes + small * BasePageBytes;
    }
}
