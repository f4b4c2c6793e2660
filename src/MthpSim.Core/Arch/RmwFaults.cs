namespace MthpSim.Core.Arch;

/// <summary>
/// How an atomic read-modify-write instruction faults on a page it may not yet write (the machine's
/// <c>rmw=</c>). On x86_64 it is always one write fault.
/// </summary>
public enum RmwFaults
{
    /// <summary>arm64 as in Linux 6.18: the abort of an atomic on a missing page reads as a load, so a read fault comes first and a write fault after it.</summary>
    ReadThenWrite,
    /// <summary>arm64 with the change proposed in seed 004 (forcing a write fault for atomics): one write fault.</summary>
    Write,
}
