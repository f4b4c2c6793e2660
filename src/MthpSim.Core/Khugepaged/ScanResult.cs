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
