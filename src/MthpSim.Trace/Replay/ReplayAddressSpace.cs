using MthpSim.Core.Vma;

namespace MthpSim.Trace.Replay;

/// <summary>
/// What the replay knows of one simulated mm beyond the model's own state: who uses it (threads of
/// a process, a vfork child until it execs), where the stack is, and the special
/// mappings (vdso, vvar) the model does not map.
/// </summary>
sealed class ReplayAddressSpace(MmStruct mm)
{
    public MmStruct Mm { get; } = mm;
    /// <summary>Thread groups using this mm: the owner, plus vfork children that have not exec'd.</summary>
    public int Users = 1;
    /// <summary>Lowest address of the stack mapping execve made; faults just below it grow the stack.</summary>
    public ulong StackStart;
    /// <summary>Top of the stack execve made, until the first fault in it (see <c>TraceReplay.ExecArgPages</c>).</summary>
    public ulong StackTopUntouched;
    /// <summary>vdso and vvar: [vdso] pages a fault maps count in RssFile (special_mapping_fault()); vvar's are PFN maps and do not.</summary>
    public readonly List<(ulong Start, ulong End, bool Vdso)> Special = [];
    public readonly HashSet<ulong> VdsoPagesMapped = [];

    public (ulong Start, ulong End, bool Vdso)? SpecialAt(ulong addr) =>
        Special.FindIndex(s => addr >= s.Start && addr < s.End) is int i and >= 0 ? Special[i] : null;
}
