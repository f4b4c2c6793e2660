namespace MthpSim.Trace.Replay;

/// <summary>One thread group of the trace.</summary>
sealed class ReplayProcess(int pid)
{
    public int Pid { get; } = pid;
    /// <summary>The basename of the last program it exec'd ("?" before that).</summary>
    public string Comm = "?";
    public string? Exe;
    public ReplayAddressSpace? Space;
    public long Faults;
    public bool Exited;
}
