namespace MthpSim.Core.Vma;

/// <summary>The vm_flags bits the model uses.</summary>
[Flags]
public enum VmFlags : uint
{
    None = 0,
    Read = 1 << 0,
    Write = 1 << 1,
    Exec = 1 << 2,
    Shared = 1 << 3,
    MayRead = 1 << 4,
    MayWrite = 1 << 5,
    MayExec = 1 << 9,
    /// <summary>VM_HUGEPAGE: MADV_HUGEPAGE (VmFlags "hg").</summary>
    Hugepage = 1 << 6,
    /// <summary>VM_NOHUGEPAGE: MADV_NOHUGEPAGE (VmFlags "nh").</summary>
    Nohugepage = 1 << 7,
    /// <summary>VM_ACCOUNT: private writable mapping charged to commit.</summary>
    Account = 1 << 8,
    /// <summary>VM_MAYSHARE: a MAP_SHARED mapping (VmFlags "ms").</summary>
    MayShare = 1 << 10,
    /// <summary>VM_UFFD_MISSING: userfaultfd reports faults on missing pages (VmFlags "um").</summary>
    UffdMissing = 1 << 11,
    /// <summary>VM_UFFD_WP: userfaultfd reports writes to write-protected pages (VmFlags "uw").</summary>
    UffdWp = 1 << 12,
    /// <summary>VM_UFFD_MINOR: userfaultfd reports faults on pages the page cache has but the page table lacks (VmFlags "ui").</summary>
    UffdMinor = 1 << 13,
    /// <summary>__VM_UFFD_FLAGS: any of them makes the VMA userfaultfd_armed().</summary>
    UffdArmed = UffdMissing | UffdWp | UffdMinor,
}
