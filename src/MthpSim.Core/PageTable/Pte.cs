using System.Runtime.CompilerServices;

namespace MthpSim.Core.PageTable;

/// <summary>
/// A page table entry packed into a ulong: flag bits low, PFN from bit 12. Zero is pte_none().
/// The same encoding serves PMD leaf entries.
/// </summary>
public static class Pte
{
    public const ulong Present = 1;
    public const ulong Write = 1 << 1;
    public const ulong Dirty = 1 << 2;
    public const ulong Young = 1 << 3;
    /// <summary>pte_special(): maps the shared zero page; no folio behind it.</summary>
    public const ulong Special = 1 << 4;
    const int PfnShift = 12;

    public static readonly ulong ZeroPage = Present | Special | Young;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Make(int pfn, ulong flags) => ((ulong)(uint)pfn << PfnShift) | flags | Present;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Pfn(ulong pte) => (int)(pte >> PfnShift);
    public static bool IsNone(ulong pte) => pte == 0;
    public static bool IsPresent(ulong pte) => (pte & Present) != 0;
    public static bool IsZero(ulong pte) => (pte & Special) != 0;
    /// <summary>A present entry that maps a folio page (vm_normal_page() != NULL).</summary>
    public static bool IsNormal(ulong pte) => (pte & (Present | Special)) == Present;
    public static bool IsWrite(ulong pte) => (pte & Write) != 0;
    public static bool IsDirty(ulong pte) => (pte & Dirty) != 0;
    public static bool IsYoung(ulong pte) => (pte & Young) != 0;
}
