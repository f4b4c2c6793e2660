namespace MthpSim.Core.Userfaultfd;

/// <summary>
/// struct userfaultfd_ctx of a process's userfaultfd, opened with no features (UFFDIO_API with
/// features 0): no fork, remap, remove or unmap events, no asynchronous write protection.
/// </summary>
public sealed class UserfaultfdCtx(IUserfaultReader reader)
{
    public IUserfaultReader Reader { get; } = reader;
    /// <summary>Fault messages delivered to the reader.</summary>
    public long Faults;
}
