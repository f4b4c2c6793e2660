using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/swapfile.c: dropping swap entries from page tables.
public sealed partial class Kernel
{
    /// <summary>
    /// models free_swap_and_cache_nr() for one entry a page table drops: one reference less,
    /// MM_SWAPENTS with it; a slot only the swap cache still holds may take its folio out of the cache.
    /// </summary>
    void FreeSwapEntry(MmStruct mm, ulong pte)
    {
        int offset = Pte.SwapOffset(pte);
        SwapInfo!.Put(offset);
        mm.Rss[(int)RssMember.SwapEnts]--;
        if (SwapInfo.Count(offset) == 0 && SwapInfo.CachedFolio(offset) >= 0) TryToReclaimSwap(offset);
    }
}
