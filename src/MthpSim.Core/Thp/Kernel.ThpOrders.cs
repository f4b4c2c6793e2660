using System.Numerics;
using MthpSim.Core.Thp;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

/// <summary>Why orders are asked for: enum tva_type.</summary>
public enum TvaType { Smaps, PageFault, Khugepaged, ForcedCollapse }

// include/linux/huge_mm.h and mm/huge_memory.c: which folio orders a VMA may use.
public sealed partial class Kernel
{
    /// <summary>models vma_thp_disabled()</summary>
    bool VmaThpDisabled(Vma.Vma vma, VmFlags flags, bool forcedCollapse)
    {
        MmStruct mm = vma.Mm;
        if ((flags & VmFlags.Nohugepage) != 0) return true;
        if (mm.ThpDisabled) return true;
        if ((flags & VmFlags.Hugepage) != 0) return false;
        if (forcedCollapse) return false;
        return mm.ThpDisabledExceptAdvised;
    }

    /// <summary>models thp_vma_allowable_orders(): the sysfs masks, then __thp_vma_allowable_orders().</summary>
    public ulong ThpVmaAllowableOrders(Vma.Vma vma, TvaType type, ulong orders)
    {
        VmFlags flags = vma.Flags;
        if (vma.File != null) return ShmemThpVmaAllowableOrders(vma, flags, type, orders);
        if (type != TvaType.ForcedCollapse)
        {
            ulong mask = Thp.AnonAlways;
            if ((flags & VmFlags.Hugepage) != 0) mask |= Thp.AnonMadvise;
            if (Thp.GlobalAlways || ((flags & VmFlags.Hugepage) != 0 && Thp.GlobalEnabled))
                mask |= Thp.AnonInherit;
            orders &= mask;
            if (orders == 0) return 0;
        }
        return ThpVmaAllowableOrdersCore(vma, flags, type, orders);
    }

    /// <summary>models __thp_vma_allowable_orders() for anonymous VMAs.</summary>
    ulong ThpVmaAllowableOrdersCore(Vma.Vma vma, VmFlags flags, TvaType type, ulong orders)
    {
        bool smaps = type == TvaType.Smaps, inPf = type == TvaType.PageFault;
        orders &= Geo.AnonOrders;
        if (orders == 0) return 0;
        if (VmaThpDisabled(vma, flags, type == TvaType.ForcedCollapse)) return 0;
        // Faults check the fit themselves; everyone else needs one aligned block of the order inside the VMA.
        if (!inPf)
        {
            int order = HighestOrder(orders);
            while (orders != 0)
            {
                ulong addr = vma.End - ((ulong)Geo.PageSize << order);
                if (ThpVmaSuitableOrder(vma, addr, order)) break;
                orders &= ~(1UL << order);
                order = orders == 0 ? -1 : HighestOrder(orders);
            }
            if (orders == 0) return 0;
        }
        // THPeligible shows 1 before the first fault; khugepaged and collapse need an anon_vma.
        if (vma.AnonVma == 0) return smaps || inPf ? orders : 0;
        return orders;
    }

    /// <summary>models thp_vma_suitable_order(): the aligned block around addr lies inside the VMA (and, for a file, the file offset is aligned alike).</summary>
    public bool ThpVmaSuitableOrder(Vma.Vma vma, ulong addr, int order)
    {
        ulong size = (ulong)Geo.PageSize << order;
        ulong haddr = addr & ~(size - 1);
        // Anonymous VMAs skip the pgoff alignment check that file VMAs need.
        if (vma.File != null && ((long)(vma.Start >> PageShift) - vma.PgOff) % (1L << order) != 0) return false;
        return haddr >= vma.Start && haddr + size <= vma.End;
    }

    /// <summary>
    /// models __thp_vma_allowable_orders() for a shmem VMA: no sysfs anon masks; outside faults, the
    /// highest order with an aligned block in the VMA, then shmem_allowable_huge_orders() at vm_pgoff.
    /// Faults never ask (shmem has no huge_fault; do_set_pmd() decides).
    /// </summary>
    ulong ShmemThpVmaAllowableOrders(Vma.Vma vma, VmFlags flags, TvaType type, ulong orders)
    {
        bool forced = type == TvaType.ForcedCollapse;
        if (type == TvaType.PageFault || VmaThpDisabled(vma, flags, forced)) return 0;
        while (orders != 0)
        {
            int order = HighestOrder(orders);
            if (ThpVmaSuitableOrder(vma, vma.End - ((ulong)Geo.PageSize << order), order)) break;
            orders &= ~(1UL << order);
        }
        if (orders == 0) return 0;
        return orders & ShmemAllowableHugeOrders(vma.File!, vma, vma.PgOff, 0, forced);
    }

    /// <summary>models thp_vma_suitable_orders()</summary>
    public ulong ThpVmaSuitableOrders(Vma.Vma vma, ulong addr, ulong orders)
    {
        ulong result = orders;
        while (orders != 0)
        {
            int order = HighestOrder(orders);
            if (!ThpVmaSuitableOrder(vma, addr, order)) result &= ~(1UL << order);
            orders &= ~(1UL << order);
        }
        return result;
    }

    public static int HighestOrder(ulong orders) => 63 - BitOperations.LeadingZeroCount(orders);

    /// <summary>models hugepage_pmd_enabled(): whether khugepaged has PMD work to do at all, for anonymous memory or shmem.</summary>
    public bool HugepagePmdEnabled() => AnyAnonOrderEnabled(1UL << Geo.PmdOrder) || ShmemHpagePmdEnabled();

    /// <summary>models shmem_hpage_pmd_enabled(): a PMD-sized shmem setting that is not never (inherit follows shmem_enabled), unless deny.</summary>
    public bool ShmemHpagePmdEnabled()
    {
        ulong pmd = 1UL << Geo.PmdOrder;
        if (Thp.ShmemEnabled == ShmemEnabled.Deny) return false;
        if (((Thp.ShmemAlways | Thp.ShmemAdvise | Thp.ShmemWithinSize) & pmd) != 0) return true;
        return (Thp.ShmemInherit & pmd) != 0 && Thp.ShmemEnabled != ShmemEnabled.Never;
    }

    /// <summary>Whether any of these anonymous orders is enabled (always, madvise, or inherit with the global setting on).</summary>
    public bool AnyAnonOrderEnabled(ulong orders) =>
        ((Thp.AnonAlways | Thp.AnonMadvise) & orders) != 0 || ((Thp.AnonInherit & orders) != 0 && Thp.GlobalEnabled);

    /// <summary>The orders khugepaged may collapse a VMA to: the policy's for anonymous memory; a shmem VMA only to the PMD order (collapse_file()) whatever the policy.</summary>
    internal ulong KhugepagedOrders(Vma.Vma vma) =>
        vma.File != null ? ThpVmaAllowableOrders(vma, TvaType.Khugepaged, 1UL << Geo.PmdOrder) : _collapsePolicy.KhugepagedOrders(this, vma);

    /// <summary>models khugepaged_enter_vma(): registers the mm with khugepaged when PMD collapse is possible.</summary>
    internal void KhugepagedEnterVma(Vma.Vma vma)
    {
        MmStruct mm = vma.Mm;
        if (mm.KhugepagedRegistered || !_collapsePolicy.KhugepagedEnabled(this)) return;
        if (KhugepagedOrders(vma) != 0)
            KhugepagedEnter(mm);
    }
}
