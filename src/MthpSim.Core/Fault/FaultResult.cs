namespace MthpSim.Core.Fault;

/// <summary>The outcome of a fault, as the VM_FAULT_* bits that matter to the model.</summary>
public enum FaultResult
{
    /// <summary>The access can proceed.</summary>
    Ok,
    /// <summary>VM_FAULT_FALLBACK: the PMD path declined; try the PTE level.</summary>
    Fallback,
    /// <summary>VM_FAULT_OOM: no memory for even an order-0 page or a page table.</summary>
    Oom,
    /// <summary>VM_FAULT_SIGSEGV: no VMA or no permission.</summary>
    Segv,
    /// <summary>VM_FAULT_SIGBUS: a shmem page past the end of its file, or no space left for it.</summary>
    SigBus,
    /// <summary>VM_FAULT_RETRY from handle_userfault(): the fault went to userfaultfd, whose reader resolved it; the access is retried.</summary>
    Retry,
    /// <summary>handle_userfault() with nobody resolving the fault: the faulting thread waits (until a signal).</summary>
    Blocked,
}
