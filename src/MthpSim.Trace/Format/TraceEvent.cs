namespace MthpSim.Trace.Format;

/// <summary>
/// One trace record. A plain struct with numbered argument slots (which slot means what per kind is
/// on <see cref="TraceEventKind"/> and in docs/trace-format.md) so that reading millions of records
/// allocates nothing but the rare path string.
/// </summary>
public struct TraceEvent
{
    public TraceEventKind Kind;
    /// <summary>CLOCK_MONOTONIC nanoseconds; for a system call, when it returned.</summary>
    public long Time;
    /// <summary>Thread group id (the process).</summary>
    public int Pid;
    public int Tid;
    public ulong Addr, Len, Arg2, Arg3, Arg4, Arg5;
    /// <summary>A system call's return value (negative: -errno).</summary>
    public long Ret;
    /// <summary>A system call's duration in nanoseconds.</summary>
    public long Dur;
    public string? Path;

    public readonly int Prot => (int)Arg2;
    public readonly int MapFlags => (int)Arg3;
    public readonly int Fd => (int)(long)Arg4;
    public readonly ulong Offset => Arg5;
    public readonly ulong NewLen => Arg2;
    public readonly ulong NewAddr => Arg4;
    public readonly int Advice => (int)Arg2;
    public readonly int Child => (int)Arg2;
    public readonly ulong CloneFlags => Arg3;
    public readonly FaultFlags Access => (FaultFlags)Arg2;
    public readonly bool GroupDead => Arg2 != 0;

    public static TraceEvent Fault(long time, int pid, int tid, ulong addr, FaultFlags flags) =>
        new() { Kind = TraceEventKind.Fault, Time = time, Pid = pid, Tid = tid, Addr = addr, Arg2 = (ulong)flags };

    public override readonly string ToString() => TraceText.Format(this);
}
