using MthpSim.Core.Folio;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// mm/huge_memory.c: the huge zero folio, allocated on first use.
public sealed partial class Kernel
{
    int _hugeZeroPfn = -1;

    /// <summary>PFN of the huge zero folio, or -1 while it has not been allocated.</summary>
    public int HugeZeroPfn => _hugeZeroPfn;

    /// <summary>
    /// models mm_get_huge_zero_folio()/get_huge_zero_folio(): allocates the global huge zero folio on
    /// first use (thp_zero_page_alloc). It is never freed here: no shrinker runs without memory pressure.
    /// </summary>
    bool GetHugeZeroFolio()
    {
        if (_hugeZeroPfn >= 0) return true;
        int pfn = AllocFolio(Geo.PmdOrder, PageKind.HugeZero, PageAlloc.Gfp.Transhuge);
        if (pfn < 0)
        {
            Stats.Count(VmEvent.ThpZeroPageAllocFailed);
            return false;
        }
        _hugeZeroPfn = pfn;
        Work(Cost.KernelWork.PagesZeroed, Geo.PtrsPerPte);   // __GFP_ZERO
        Stats.Count(VmEvent.ThpZeroPageAlloc);
        return true;
    }
}
