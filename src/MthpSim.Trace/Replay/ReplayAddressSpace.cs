using MthpSim.Core.Vma;

namespace MthpSim.Trace.Replay;

/// <summary>
/// What the replay knows of one simulated mm beyond the model's own state: who uses it (threads of
/// a process, a vfork child until it execs), where the heap and the stack are, and the special
/// mappings (vdso, vvar) the model does not map.
/// </summary>
sealed class ReplayAddressSpace(MmStruct mm)
{
    public MmStruct Mm { get; } = mm;
    /// <summary>Thread groups using this mm: the owner, plus vfork children that have not exec'd.</summary>
    public int Users = 1;
    /// <summary>The heap's start and the current break (0 until the first brk()).</summary>
    public ulong BrkStart, Brk;
    /// <summary>Lowest address of the stack mapping execve made; faults just below it grow the stack.</summary>
    public ulong StackStart;
    public readonly List<(ulong Start, ulong End)> Special = [];

    public bool InSpecial(ulong addr) => Special.Exists(s => addr >= s.Start && addr < s.End);
}
