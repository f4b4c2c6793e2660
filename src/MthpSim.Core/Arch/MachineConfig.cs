namespace MthpSim.Core.Arch;

public enum CpuArch { X86_64, Arm64 }

/// <summary>What the scenario's <c>machine</c> statement sets: memory, base page size, architecture, swap size and device, how atomics fault, seed.</summary>
public sealed record MachineConfig(long MemoryBytes, int PageSize, CpuArch Arch, long SwapBytes, ulong Seed)
{
    public static MachineConfig Default { get; } = new(16L << 30, 4096, CpuArch.X86_64, 0, 1);
    /// <summary>The kind of the swap device when <see cref="SwapBytes"/> is not 0.</summary>
    public Swap.SwapDeviceKind SwapDevice { get; init; } = Swap.SwapDeviceKind.Zram;
    /// <summary>How an atomic read-modify-write faults on arm64.</summary>
    public RmwFaults Rmw { get; init; } = RmwFaults.ReadThenWrite;
}
