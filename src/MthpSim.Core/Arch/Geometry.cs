namespace MthpSim.Core.Arch;

/// <summary>
/// Address-space geometry derived from the base page size, as the kernel's PAGE_SHIFT, PMD_ORDER,
/// PTRS_PER_PTE and MAX_PAGE_ORDER are (x86_64: 4K only; arm64: 4K, 16K, 64K).
/// </summary>
public sealed class Geometry
{
    public int PageShift { get; }
    public long PageSize { get; }
    /// <summary>Order of a PMD-sized folio: 9 (4K), 11 (16K), 13 (64K).</summary>
    public int PmdOrder { get; }
    public int PtrsPerPte { get; }
    public long PmdSize { get; }
    /// <summary>Largest buddy order (MAX_PAGE_ORDER): 10 on x86_64 and arm64/4K, 11 on arm64/16K, 13 on arm64/64K.</summary>
    public int MaxPageOrder { get; }
    public CpuArch Arch { get; }

    public Geometry(int pageSize, CpuArch arch)
    {
        PageShift = pageSize switch
        {
            4096 => 12,
            16384 => 14,
            65536 => 16,
            _ => throw new ArgumentException($"unsupported base page size {pageSize}"),
        };
        if (arch == CpuArch.X86_64 && pageSize != 4096)
            throw new ArgumentException("x86_64 has only 4K base pages");
        Arch = arch;
        // A page table page holds PageSize/8 entries.
        PmdOrder = PageShift - 3;
        MaxPageOrder = PageShift switch { 12 => 10, 14 => 11, _ => 13 };
        // the derived sizes, read on every fault: computed once
        PageSize = 1L << PageShift;
        PtrsPerPte = 1 << PmdOrder;
        PmdSize = PageSize << PmdOrder;
        AnonOrders = ((1UL << (PmdOrder + 1)) - 1) & ~3UL;
        FileOrders = ((1UL << (PmdOrder + 1)) - 1) & ~1UL;
        AllOrders = AnonOrders | FileOrders;
        ContPtes = arch != CpuArch.Arm64 ? 0 : PageShift switch { 12 => 16, 14 => 128, _ => 32 };
        // 48 bits of virtual address (x86_64 four-level paging, arm64 VA_BITS_48), PmdOrder of them
        // per level below the PGD: four levels with 4K and 16K pages, three with 64K (no PUD)
        PageTableLevels = (48 - PageShift + PmdOrder - 1) / PmdOrder;
    }

    /// <summary>CONFIG_PGTABLE_LEVELS in use: PTE, PMD, (PUD,) PGD.</summary>
    public int PageTableLevels { get; }

    /// <summary>Mask of anonymous THP orders, 2..PMD_ORDER (THP_ORDERS_ALL_ANON; order 1 is not supported for anon).</summary>
    public ulong AnonOrders { get; }
    /// <summary>Mask of file/shmem THP orders, 1..PMD_ORDER (THP_ORDERS_ALL_FILE_DEFAULT, as the scenario spec fixes it).</summary>
    public ulong FileOrders { get; }
    public ulong AllOrders { get; }

    public long SizeOfOrderKb(int order) => (PageSize << order) >> 10;

    /// <summary>
    /// CONT_PTES: PTEs one contiguous-bit block folds into a TLB entry: arm64 16 (64K) with 4K pages,
    /// 128 (2M) with 16K, 32 (2M) with 64K (arch/arm64/include/asm/pgtable-hwdef.h); 0 on x86_64, which has no such bit.
    /// </summary>
    public int ContPtes { get; }
}
