using MthpSim.Core.PageTable;

namespace MthpSim.Core;

// The host arrays behind page tables, allocated in one place.
public sealed partial class Kernel
{
    /// <summary>The entries of one PTE table (pte_alloc_one()'s page, as the model keeps it).</summary>
    internal ulong[] NewPteTable() => new ulong[Geo.PtrsPerPte];

    /// <summary>What the program expects in each page of one PMD range (the <c>intact</c> oracle).</summary>
    internal uint[] NewExpectedTable(bool zeroed = true) =>
        zeroed ? new uint[Geo.PtrsPerPte] : GC.AllocateUninitializedArray<uint>(Geo.PtrsPerPte);

    /// <summary>The slot's expected-content table, ready to be written: made if it has none, copied first if fork shared it.</summary>
    internal uint[] ExpectedForWrite(PmdSlot slot)
    {
        var e = slot.Expected;
        if (e == null) return slot.Expected = NewExpectedTable();
        if (!slot.ExpectedShared) return e;
        var copy = NewExpectedTable(zeroed: false);
        e.CopyTo(copy, 0);
        (slot.Expected, slot.ExpectedShared) = (copy, false);
        return copy;
    }

    /// <summary>Drops the slot's expected-content table (the program expects zeroes everywhere in it).</summary>
    internal static void DropExpected(PmdSlot slot) => (slot.Expected, slot.ExpectedShared) = (null, false);
}
