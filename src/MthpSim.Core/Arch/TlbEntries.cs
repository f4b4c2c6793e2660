namespace MthpSim.Core.Arch;

/// <summary>
/// The TLB entries that map a process's present memory on x86_64, where each entry maps what one
/// page-table entry does: a PTE one base page, a PMD leaf its PMD size (docs/cost-model.md, "TLB
/// reach"). The shared and huge zero pages count: a load from them needs an entry as any other.
/// </summary>
public sealed record TlbEntries(long BasePages, long PmdMappings, long BasePageBytes, long PmdBytes)
{
    public long Total => BasePages + PmdMappings;

    /// <summary>Memory all the entries map.</summary>
    public long MappedBytes => BasePages * BasePageBytes + PmdMappings * PmdBytes;

    /// <summary>The memory a TLB of <paramref name="entries"/> entries reaches when it holds the largest mappings.</summary>
    public long ReachBytes(long entries)
    {
        long pmd = Math.Min(entries, PmdMappings);
        long small = Math.Min(entries - pmd, BasePages);
        return pmd * PmdBytes + small * BasePageBytes;
    }
}
