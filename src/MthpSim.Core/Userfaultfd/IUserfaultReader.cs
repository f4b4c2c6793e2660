namespace MthpSim.Core.Userfaultfd;

/// <summary>
/// The program's thread that reads its userfaultfd: it gets each fault message and may resolve it
/// with the ioctls (<see cref="Kernel.UffdCopy"/> and the others) before the faulting access retries.
/// </summary>
public interface IUserfaultReader
{
    /// <summary>
    /// A fault at the page <paramref name="address"/> (page-aligned). Returns true when the reader
    /// resolved it (the access is retried), false when it leaves it (the faulting thread waits).
    /// </summary>
    bool Read(Kernel kernel, Vma.MmStruct mm, ulong address, UserfaultReason reason);
}
