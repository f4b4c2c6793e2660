using MthpSim.Core.Arch;

namespace MthpSim.Core.Thp;

public enum ThpEnabled { Always, Madvise, Never }
public enum ThpDefrag { Always, Defer, DeferMadvise, Madvise, Never }
public enum ShmemEnabled { Always, WithinSize, Advise, Never, Deny, Force }
public enum ShmemSizeEnabled { Always, Inherit, WithinSize, Advise, Never }

/// <summary>
/// The state behind /sys/kernel/mm/transparent_hugepage (transparent_hugepage_flags, the
/// huge_anon_orders_{always,madvise,inherit} bitmaps, the shmem per-size masks, khugepaged tunables).
/// Starts at the Linux 6.18 defaults of a TRANSPARENT_HUGEPAGE_ALWAYS kernel.
/// </summary>
public sealed class ThpSettings
{
    public ThpEnabled Enabled = ThpEnabled.Always;
    public ThpDefrag Defrag = ThpDefrag.Madvise;
    public bool UseZeroPage = true;
    public bool ShrinkUnderused = true;
    public ShmemEnabled ShmemEnabled = ShmemEnabled.Never;
    /// <summary>The internal shm_mnt's huge= (SHMEM_SB(shm_mnt)->huge): follows shmem_enabled except deny and force, which override it instead.</summary>
    public Shmem.ShmemHuge InternalMountHuge = Shmem.ShmemHuge.Never;

    public ulong AnonAlways, AnonMadvise, AnonInherit;
    public ulong ShmemAlways, ShmemInherit, ShmemWithinSize, ShmemAdvise;

    public int KhugepagedDefrag = 1;
    public uint PagesToScan;
    public uint ScanSleepMillisecs = 10000;
    public uint AllocSleepMillisecs = 60000;
    public uint MaxPtesNone, MaxPtesSwap, MaxPtesShared;

    public ThpSettings(Geometry g)
    {
        int nr = g.PtrsPerPte;
        AnonInherit = 1UL << g.PmdOrder;
        ShmemInherit = 1UL << g.PmdOrder;
        PagesToScan = (uint)(nr * 8);
        MaxPtesNone = (uint)(nr - 1);
        MaxPtesSwap = (uint)(nr / 8);
        MaxPtesShared = (uint)(nr / 2);
    }

    /// <summary>models hugepage_global_enabled()</summary>
    public bool GlobalEnabled => Enabled != ThpEnabled.Never;
    /// <summary>models hugepage_global_always()</summary>
    public bool GlobalAlways => Enabled == ThpEnabled.Always;

    public ThpEnabledPerSize AnonSetting(int order)
    {
        ulong bit = 1UL << order;
        if ((AnonAlways & bit) != 0) return ThpEnabledPerSize.Always;
        if ((AnonInherit & bit) != 0) return ThpEnabledPerSize.Inherit;
        if ((AnonMadvise & bit) != 0) return ThpEnabledPerSize.Madvise;
        return ThpEnabledPerSize.Never;
    }

    public void SetAnon(int order, ThpEnabledPerSize v)
    {
        ulong bit = 1UL << order;
        AnonAlways &= ~bit; AnonInherit &= ~bit; AnonMadvise &= ~bit;
        switch (v)
        {
            case ThpEnabledPerSize.Always: AnonAlways |= bit; break;
            case ThpEnabledPerSize.Inherit: AnonInherit |= bit; break;
            case ThpEnabledPerSize.Madvise: AnonMadvise |= bit; break;
        }
    }

    public ShmemSizeEnabled ShmemSetting(int order)
    {
        ulong bit = 1UL << order;
        if ((ShmemAlways & bit) != 0) return ShmemSizeEnabled.Always;
        if ((ShmemInherit & bit) != 0) return ShmemSizeEnabled.Inherit;
        if ((ShmemWithinSize & bit) != 0) return ShmemSizeEnabled.WithinSize;
        if ((ShmemAdvise & bit) != 0) return ShmemSizeEnabled.Advise;
        return ShmemSizeEnabled.Never;
    }

    public void SetShmem(int order, ShmemSizeEnabled v)
    {
        ulong bit = 1UL << order;
        ShmemAlways &= ~bit; ShmemInherit &= ~bit; ShmemWithinSize &= ~bit; ShmemAdvise &= ~bit;
        switch (v)
        {
            case ShmemSizeEnabled.Always: ShmemAlways |= bit; break;
            case ShmemSizeEnabled.Inherit: ShmemInherit |= bit; break;
            case ShmemSizeEnabled.WithinSize: ShmemWithinSize |= bit; break;
            case ShmemSizeEnabled.Advise: ShmemAdvise |= bit; break;
        }
    }
}

public enum ThpEnabledPerSize { Always, Inherit, Madvise, Never }
