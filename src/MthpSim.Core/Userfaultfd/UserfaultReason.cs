namespace MthpSim.Core.Userfaultfd;

/// <summary>Why a fault was delivered to userfaultfd (the VM_UFFD_* reason handle_userfault() is given).</summary>
public enum UserfaultReason
{
    /// <summary>VM_UFFD_MISSING: no page there yet (anonymous memory, or a hole in the shmem file).</summary>
    Missing,
    /// <summary>VM_UFFD_WP: a write to a page write-protected with UFFDIO_WRITEPROTECT.</summary>
    WriteProtect,
    /// <summary>VM_UFFD_MINOR: the shmem file has the page, the page table does not.</summary>
    Minor,
}
