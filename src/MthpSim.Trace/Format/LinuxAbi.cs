namespace MthpSim.Trace.Format;

/// <summary>The x86_64 Linux numbers a trace carries unchanged (uapi headers).</summary>
public static class LinuxAbi
{
    public const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    public const int MapShared = 0x01, MapPrivate = 0x02, MapSharedValidate = 0x03, MapFixed = 0x10, MapAnonymous = 0x20,
        MapGrowsDown = 0x100, MapPopulate = 0x8000, MapStack = 0x20000, MapFixedNoReplace = 0x100000;
    public const ulong MremapMayMove = 1, MremapFixed = 2, MremapDontUnmap = 4;
    public const ulong CloneVm = 0x100, CloneVfork = 0x4000, CloneThread = 0x10000;
    public const int PrSetThpDisable = 41, PrGetThpDisable = 42;

    /// <summary>x86_64 syscall numbers of the memory system calls the recorder keeps.</summary>
    public static class Nr
    {
        public const int Mmap = 9, Mprotect = 10, Munmap = 11, Brk = 12, Mremap = 25, Madvise = 28, Shmat = 30, Shmdt = 67,
            Mlock = 149, Munlock = 150, Mlockall = 151, Munlockall = 152, Prctl = 157, RemapFilePages = 216, Mlock2 = 325,
            PkeyMprotect = 329, ProcessMadvise = 440, MapShadowStack = 453, Mseal = 462;

        public static readonly int[] Recorded =
            [Mmap, Mprotect, Munmap, Brk, Mremap, Madvise, Shmat, Shmdt, Mlock, Munlock, Mlockall, Munlockall, Prctl,
             RemapFilePages, Mlock2, PkeyMprotect, ProcessMadvise, MapShadowStack, Mseal];
    }
}
