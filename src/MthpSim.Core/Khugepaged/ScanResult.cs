namespace MthpSim.Core.Khugepaged;

/// <summary>enum scan_result of mm/khugepaged.c (6.18), in the kernel's order.</summary>
public enum ScanResult
{
    Fail, Succeed, PmdNull, PmdNone, PmdMapped, ExceedNonePte, ExceedSwapPte, ExceedSharedPte,
    PteNonPresent, PteUffdWp, PteMappedHugepage, LackReferencedPage, PageNull, ScanAbort, PageCount,
    PageLru, PageLock, PageAnon, PageCompound, AnyProcess, VmaNull, VmaCheck, AddressRange, DelPageLru,
    AllocHugePageFail, CgroupChargeFail, Truncated, PageHasPrivate, StoreFailed, CopyMc, PageFilled,
}

public static class ScanResultNames
{
    /// <summary>The status strings the huge_memory tracepoints print (SCAN_STATUS), by enum value.</summary>
    static readonly string[] TraceNames =
    [
        "failed", "succeeded", "pmd_null", "pmd_none", "page_pmd_mapped", "exceed_none_pte",
        "exceed_swap_pte", "exceed_shared_pte", "pte_non_present", "pte_uffd_wp",
        "pte_mapped_hugepage", "lack_referenced_page", "page_null", "scan_aborted",
        "not_suitable_page_count", "page_not_in_lru", "page_locked", "page_not_anon",
        "page_compound", "no_process_for_page", "vma_null", "vma_check_failed",
        "not_suitable_address_range", "could_not_delete_page_from_lru", "alloc_huge_page_failed",
        "ccgroup_charge_failed", "truncated", "page_has_private", "store_failed",
        "copy_poisoned_page", "page_filled"
    ];

    /// <summary>The word the tracepoints print: "succeeded" for Succeed, "page_pmd_mapped" for PmdMapped.</summary>
    public static string TraceName(this ScanResult r) => TraceNames[(int)r];

    /// <summary>The kernel's name: SCAN_EXCEED_NONE_PTE for ExceedNonePte.</summary>
    public static string KernelName(this ScanResult r)
    {
        var sb = new System.Text.StringBuilder("SCAN_");
        string s = r.ToString();
        for (int i = 0; i < s.Length; i++)
        {
            if (i > 0 && char.IsUpper(s[i])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(s[i]));
        }
        return sb.ToString();
    }
}
