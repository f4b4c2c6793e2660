using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/memory.c __pud_alloc(), __pmd_alloc() and free_pgd_range()'s upper levels: the page-table pages
// above the PMD entries, which the kernel allocates (charged, in NR_PAGETABLE) as PTE tables are.
public sealed partial class Kernel
{
    /// <summary>
    /// models pud_alloc() and pmd_alloc(): the PUD page (with four levels) and the PMD page above the
    /// PMD entry PMDINDEX, each made when missing as a page table of the mm (GFP_PGTABLE_USER:
    /// charged to its cgroup). False when one cannot be had (a fault's VM_FAULT_OOM, a system call's
    /// -ENOMEM); a PUD page made before that stays.
    /// </summary>
    internal bool PmdAlloc(MmStruct mm, long pmdIndex)
    {
        var tables = mm.PageTables;
        if (tables.HasPmdPage(pmdIndex)) return true;
        if (tables.PudLevel && !tables.HasPudPage(pmdIndex))
        {
            int pud = AllocPageTable(mm);
            if (pud < 0) return false;
            tables.AddPudPage(pmdIndex, pud);
        }
        int pmd = AllocPageTable(mm);
        if (pmd < 0) return false;
        tables.AddPmdPage(pmdIndex, pmd);
        return true;
    }

    /// <summary>
    /// models free_pmd_range() and free_pud_range() after the PTE level of free_pgtables(): each PMD
    /// page over [start, end) whose whole range no VMA reaches any more is freed, then each PUD page
    /// likewise.
    /// </summary>
    void FreeUpperTables(MmStruct mm, ulong start, ulong end)
    {
        var tables = mm.PageTables;
        if (tables.UpperPageCount == 0) return;
        long pmdSpan = tables.PmdPageSpan, pudSpan = tables.PudPageSpan, last = PmdIndex(end - 1);
        long busyPud = -1;   // a PUD range a VMA is known to reach: its page stays, no need to ask
        for (long index = PmdIndex(start) & ~(pmdSpan - 1); index <= last; index += pmdSpan)
            if (!FreeUpperTable(mm, index, pmdSpan, pud: false)) busyPud = index & ~(pudSpan - 1);
        if (!tables.PudLevel) return;
        for (long index = PmdIndex(start) & ~(pudSpan - 1); index <= last; index += pudSpan)
            if (index != busyPud) FreeUpperTable(mm, index, pudSpan, pud: true);
    }

    /// <summary>Frees the PMD or PUD page over SPAN PMD entries from INDEX unless a VMA reaches its range (false then).</summary>
    bool FreeUpperTable(MmStruct mm, long index, long span, bool pud)
    {
        ulong from = (ulong)index << _pmdShift, to = from + ((ulong)span << _pmdShift);
        if (mm.AnyIntersecting(from, to)) return false;
        int pfn = pud ? mm.PageTables.RemovePudPage(index) : mm.PageTables.RemovePmdPage(index);
        if (pfn >= 0) FreePageTable(mm, pfn);
        return true;
    }
}
