using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    /// <summary>A non-present swap entry: the swap slot's offset sits where a PFN would.</summary>
    public const ulong Swap = 1 << 5;
    /// <summary>pte_swp_exclusive(): the page was PageAnonExclusive when it was unmapped.</summary>
    public const ulong SwpExclusive = 1 << 6;
    /// <summary>pte_uffd_wp() on a present entry, pte_swp_uffd_wp() on a swap entry, pmd_uffd_wp() on a PMD leaf: userfaultfd write-protected.</summary>
    public const ulong UffdWp = 1 << 7;
    /// <summary>A non-present PTE marker (make_pte_marker()): no page and no swap slot, only what <see cref="UffdWp"/> says.</summary>
    public const ulong Marker = 1 << 8;
    /// <summary>The PTE_MARKER_UFFD_WP marker: a page of a file mapping that is write-protected while nothing maps it.</summary>
    public const ulong UffdWpMarker = Marker | UffdWp;
    const int PfnShift = 12;
    /// <summary>Every flag bit of an entry (the bits below the PFN).</summary>
    public const ulong FlagBits = (1UL << PfnShift) - 1;

    public static readonly ulong ZeroPage = Present | Special | Young;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Make(int pfn, ulong flags) => ((ulong)(uint)pfn << PfnShift) | flags | Present;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Pfn(ulong pte) => (int)(pte >> PfnShift);
    /// <summary>The same entry pointing at another page frame (remove_migration_pte(): the bits carried across).</summary>
    public static ulong WithPfn(ulong pte, int pfn) => (pte & ((1UL << PfnShift) - 1)) | ((ulong)(uint)pfn << PfnShift);
    /// <summary>models swp_entry_to_pte(): a swap entry for slot <paramref name="offset"/> (the young and dirty bits are not kept).</summary>
    public static ulong MakeSwap(int offset, bool exclusive) => ((ulong)(uint)offset << PfnShift) | Swap | (exclusive ? SwpExclusive : 0);
    public static bool IsUffdWp(ulong pte) => (pte & UffdWp) != 0;
    public static bool IsSwap(ulong pte) => (pte & (Present | Swap)) == Swap;
    /// <summary>swp_offset(pte_to_swp_entry())</summary>
    public static int SwapOffset(ulong pte) => (int)(pte >> PfnShift);
    public static bool IsSwpExclusive(ulong pte) => (pte & SwpExclusive) != 0;
    public static bool IsNone(ulong pte) => pte == 0;
    /// <summary>is_pte_marker(): a uffd-wp marker (the only kind modelled).</summary>
    public static bool IsMarker(ulong pte) => (pte & (Present | Marker)) == Marker;
    /// <summary>pte_none_mostly(): empty, or only a marker.</summary>
    public static bool IsNoneMostly(ulong pte) => pte == 0 || IsMarker(pte);
    public static bool IsPresent(ulong pte) => (pte & Present) != 0;
    public static bool IsZero(ulong pte) => (pte & Special) != 0;
    /// <summary>A present entry that maps a folio page (vm_normal_page() != NULL).</summary>
    public static bool IsNormal(ulong pte) => (pte & (Present | Special)) == Present;
    public static bool IsWrite(ulong pte) => (pte & Write) != 0;
    public static bool IsDirty(ulong pte) => (pte & Dirty) != 0;
    public static bool IsYoung(ulong pte) => (pte & Young) != 0;

    /// <summary>
    /// How many entries from the first are normal (<see cref="IsNormal"/>) and map the frames
    /// <paramref name="pfn"/>, pfn + 1, ... in turn, whatever their other flags; compared four at a time.
    /// </summary>
    public static int ConsecutiveNormal(ReadOnlySpan<ulong> ptes, int pfn)
    {
        // the bits Pfn() reads, and the two IsNormal() reads
        const ulong mask = (0xFFFF_FFFFUL << PfnShift) | Present | Special;
        ulong first = ((ulong)(uint)pfn << PfnShift) | Present;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && ptes.Length >= Vector256<ulong>.Count)
        {
            ref ulong start = ref MemoryMarshal.GetReference(ptes);
            var vmask = Vector256.Create(mask);
            var step = Vector256.Create((ulong)Vector256<ulong>.Count << PfnShift);
            var expect = Vector256.Create(first) + Vector256.Create(0UL, 1UL << PfnShift, 2UL << PfnShift, 3UL << PfnShift);
            for (; i + Vector256<ulong>.Count <= ptes.Length; i += Vector256<ulong>.Count, expect += step)
                if ((Vector256.LoadUnsafe(ref start, (nuint)i) & vmask) != expect) break;
        }
        while (i < ptes.Length && (ptes[i] & mask) == first + ((ulong)(uint)i << PfnShift)) i++;
        return i;
    }
}
