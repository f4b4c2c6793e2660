using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/swapfile.c: dropping swap entries from page tables.
public sealed partial class Kernel
{
    /// <summary>models free_swap_and_cache_nr() for one entry a page table drops: one reference less, MM_SWAPENTS with it.</summary>
    void FreeSwapEntry(MmStruct mm, ulong pte)
    {
        SwapInfo!.Put(Pte.SwapOffset(pte));
        mm.Rss[(int)RssMember.SwapEnts]--;
    }
}
