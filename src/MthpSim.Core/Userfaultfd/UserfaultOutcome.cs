namespace MthpSim.Core.Userfaultfd;

/// <summary>What a userfaultfd reader did with a fault.</summary>
public enum UserfaultOutcome
{
    /// <summary>Resolved: the access is retried.</summary>
    Resolved,
    /// <summary>Left alone: the faulting thread waits.</summary>
    Pending,
    /// <summary>The resolving ioctl found no memory (-ENOMEM): the model ends the access as a fault that cannot allocate.</summary>
    NoMemory,
}
