using System.Runtime.InteropServices;

namespace MthpSim.Core.Host;

/// <summary>
/// A zero-filled block of host memory reserved whole and committed by the host kernel only where it
/// is touched or populated (anonymous mmap with MAP_NORESERVE), as SPARSEMEM_VMEMMAP backs struct pages on demand:
/// per-frame state for the whole simulated machine costs host memory only up to the highest frame
/// used, and never grows by copying. Host THP is turned off for it so resident memory follows use
/// closely and the simulator's own faults never allocate THPs on the machine it runs on.
/// </summary>
internal sealed unsafe class LazyHostMemory : SafeHandle

{
    public long Length { get; }

    public LazyHostMemory(long length) : base(IntPtr.Zero, ownsHandle: true)
    {
        Length = Math.Max(length, 1);
        if (OperatingSystem.IsLinux())
        {
            const int protRw = 0x1 | 0x2, mapPrivateAnonNoreserve = 0x02 | 0x20 | 0x4000, madvNohugepage = 15;
            nint p = mmap(0, (nuint)Length, protRw, mapPrivateAnonNoreserve, -1, 0);
            if (p == -1) throw new OutOfMemoryException($"cannot reserve {Length} bytes of host address space (errno {Marshal.GetLastPInvokeError()})");
            madvise(p, (nuint)Length, madvNohugepage);
            SetHandle(p);
        }
        else
        {
            SetHandle((nint)NativeMemory.AllocZeroed((nuint)Length));
        }
    }

    public byte* Pointer => (byte*)handle;

    /// <summary>
    /// Commits [offset, offset + length) now, in one call (MADV_POPULATE_WRITE), rather than a host
    /// page fault at a time as it is first touched. Where the host kernel lacks it (before 5.14) the
    /// pages are committed on touch as before.
    /// </summary>
    public void Populate(long offset, long length)
    {
        const int madvPopulateWrite = 23;
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        madvise(handle + (nint)offset, (nuint)length, madvPopulateWrite);
    }

    long _pressure;

    /// <summary>
    /// Tells the garbage collector that this much more of the block is in use, so that a machine
    /// nobody references any more is finalized (and its memory returned) in proportion to its size.
    /// </summary>
    public void AddPressure(long bytes)
    {
        GC.AddMemoryPressure(bytes);
        _pressure += bytes;
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        if (_pressure > 0) GC.RemoveMemoryPressure(_pressure);
        if (OperatingSystem.IsLinux()) munmap(handle, (nuint)Length);
        else NativeMemory.Free((void*)handle);
        return true;
    }

    [DllImport("libc", SetLastError = true)]
    static extern nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    static extern int munmap(nint addr, nuint length);

    [DllImport("libc", SetLastError = true)]
    static extern int madvise(nint addr, nuint length, int advice);
}
