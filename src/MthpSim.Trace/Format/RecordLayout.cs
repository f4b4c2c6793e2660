namespace MthpSim.Trace.Format;

/// <summary>Which slots of a <see cref="TraceEvent"/> a record of each kind carries, in file order.</summary>
static class RecordLayout
{
    [Flags]
    public enum Slot : ushort
    {
        Addr = 1, Len = 2, Arg2 = 4, Arg3 = 8, Arg4 = 16, Arg5 = 32, Ret = 64, Dur = 128, Path = 256,
    }

    const Slot Syscall = Slot.Ret | Slot.Dur;

    static readonly Slot[] Layouts = Build();

    static Slot[] Build()
    {
        var t = new Slot[16];
        t[(int)TraceEventKind.File] = Slot.Len | Slot.Path;
        t[(int)TraceEventKind.Exec] = Slot.Arg2 | Slot.Path;
        t[(int)TraceEventKind.KernelMap] = Slot.Addr | Slot.Len | Slot.Arg2 | Slot.Arg3 | Slot.Arg5 | Slot.Path;
        t[(int)TraceEventKind.Mmap] = Slot.Addr | Slot.Len | Slot.Arg2 | Slot.Arg3 | Slot.Arg4 | Slot.Arg5 | Slot.Path | Syscall;
        t[(int)TraceEventKind.Munmap] = Slot.Addr | Slot.Len | Syscall;
        t[(int)TraceEventKind.Mremap] = Slot.Addr | Slot.Len | Slot.Arg2 | Slot.Arg3 | Slot.Arg4 | Syscall;
        t[(int)TraceEventKind.Brk] = Slot.Addr | Syscall;
        t[(int)TraceEventKind.Mprotect] = Slot.Addr | Slot.Len | Slot.Arg2 | Slot.Arg3 | Syscall;
        t[(int)TraceEventKind.Madvise] = Slot.Addr | Slot.Len | Slot.Arg2 | Syscall;
        t[(int)TraceEventKind.Task] = Slot.Arg2 | Slot.Arg3;
        t[(int)TraceEventKind.Exit] = Slot.Arg2;
        t[(int)TraceEventKind.Fault] = Slot.Addr | Slot.Arg2;
        t[(int)TraceEventKind.Prctl] = Slot.Arg2 | Slot.Arg3 | Syscall;
        t[(int)TraceEventKind.Syscall] = Slot.Addr | Slot.Len | Slot.Arg2 | Slot.Arg3 | Slot.Arg4 | Slot.Arg5 | Syscall;
        t[(int)TraceEventKind.Lost] = Slot.Arg2;
        return t;
    }

    /// <summary>The slots of a kind, or 0 for a byte that names no kind.</summary>
    public static Slot Of(byte kind) => kind < Layouts.Length ? Layouts[kind] : 0;
}
