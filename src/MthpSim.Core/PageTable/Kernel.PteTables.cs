namespace MthpSim.Core;

// The host arrays behind page tables, allocated in one place.
public sealed partial class Kernel
{
    /// <summary>The entries of one PTE table (pte_alloc_one()'s page, as the model keeps it).</summary>
    internal ulong[] NewPteTable() => new ulong[Geo.PtrsPerPte];

    /// <summary>What the program expects in each page of one PMD range (the <c>intact</c> oracle).</summary>
    internal uint[] NewExpectedTable(bool zeroed = true) =>
        zeroed ? new uint[Geo.PtrsPerPte] : GC.AllocateUninitializedArray<uint>(Geo.PtrsPerPte);
}
