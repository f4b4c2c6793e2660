namespace MthpSim.Trace.Format;

/// <summary>What one trace record says happened. The byte values are part of the file format.</summary>
public enum TraceEventKind : byte
{
    /// <summary>A file the trace maps: Path, Len = its size in bytes when recorded.</summary>
    File = 1,
    /// <summary>execve() succeeded: the thread group gets a new mm. Arg2 = the tid before exec, Path.</summary>
    Exec = 2,
    /// <summary>A mapping made without a traced system call (execve's stack, ELF segments, bss, vdso).
    /// Addr, Len, Arg2 = prot, Arg3 = mmap flags, Arg5 = file offset, Path.</summary>
    KernelMap = 3,
    /// <summary>mmap(): Addr, Len, Arg2 = prot, Arg3 = flags, Arg4 = fd, Arg5 = offset, Ret, Dur, Path (empty: anonymous).</summary>
    Mmap = 4,
    /// <summary>munmap(): Addr, Len, Ret, Dur.</summary>
    Munmap = 5,
    /// <summary>mremap(): Addr, Len = old length, Arg2 = new length, Arg3 = flags, Arg4 = new address, Ret, Dur.</summary>
    Mremap = 6,
    /// <summary>brk(): Addr = the requested break (0: a query), Ret = the break after the call, Dur.</summary>
    Brk = 7,
    /// <summary>mprotect() or pkey_mprotect(): Addr, Len, Arg2 = prot, Arg3 = pkey + 1 (0: plain mprotect), Ret, Dur.</summary>
    Mprotect = 8,
    /// <summary>madvise(): Addr, Len, Arg2 = advice, Ret, Dur.</summary>
    Madvise = 9,
    /// <summary>A new task (fork, vfork, clone, clone3), recorded in the parent: Arg2 = child tid, Arg3 = clone flags.</summary>
    Task = 10,
    /// <summary>A thread exited: Arg2 = 1 when it was the thread group's last.</summary>
    Exit = 11,
    /// <summary>A hardware page fault on a user address, at its start: Addr, Arg2 = <see cref="FaultFlags"/>.</summary>
    Fault = 12,
    /// <summary>prctl(): Arg2 = option, Arg3 = its second argument, Ret, Dur.</summary>
    Prctl = 13,
    /// <summary>Another memory system call, kept as raw numbers: Addr, Len, Arg2..Arg4 = arguments 0..4, Arg5 = syscall number, Ret, Dur.</summary>
    Syscall = 14,
    /// <summary>The recorder lost events here: Arg2 = how many.</summary>
    Lost = 15,
}

/// <summary>The access a <see cref="TraceEventKind.Fault"/> record made (x86 error code, decoded).</summary>
[Flags]
public enum FaultFlags : byte
{
    Read = 0,
    Write = 1,
    Exec = 2,
    /// <summary>Taken in kernel mode (copy_to_user and the like) on a user address.</summary>
    Kernel = 4,
    /// <summary>The page was present: a protection fault (COW, zero page, write-protect).</summary>
    Present = 8,
}
