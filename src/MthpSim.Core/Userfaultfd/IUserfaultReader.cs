namespace MthpSim.Core.Userfaultfd;

/// <summary>
/// The program's thread that reads its userfaultfd: it gets each fault message and may resolve it
/// with the ioctls (<see cref="Kernel.UffdCopy"/> and the others) before the faulting access retries.
/// </summary>
public interface IUserfaultReader
{
    /// <summary>A fault at the page <paramref name="address"/> (page-aligned), and what the reader did about it.</summary>
    UserfaultOutcome Read(Kernel kernel, Vma.MmStruct mm, ulong address, UserfaultReason reason);
}
