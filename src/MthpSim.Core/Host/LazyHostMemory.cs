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

    /// <param name="recyclable">
    /// Only what <see cref="Populate"/> committed is ever written (the owner never touches a page it
    /// did not populate): then, once released, the block's committed pages are kept for the next
    /// block of the same length (<see cref="HostMemoryRecycler"/>), which zeroes them instead of
    /// having the host fault them in again.
    /// </param>
    public LazyHostMemory(long length, bool recyclable = false) : base(IntPtr.Zero, ownsHandle: true)
    {
        Length = Math.Max(length, 1);
        _recyclable = recyclable && OperatingSystem.IsLinux();
        if (_recyclable && HostMemoryRecycler.TryTake(Length, out nint reused, out var written))
        {
            _stale.AddRange(written);   // zeroed as they are populated again
            SetHandle(reused);
        }
        else if (OperatingSystem.IsLinux())
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

    readonly bool _recyclable;
    /// <summary>The ranges committed so far (recyclable blocks only), merged where they meet: few, one per array of the owner.</summary>
    readonly List<(long Start, long End)> _committed = [];
    /// <summary>Of a recycled block: ranges the last owner wrote that this one has not populated yet (resident, not zero).</summary>
    readonly List<(long Start, long End)> _stale = [];

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
        if (_recyclable)
        {
            long end = offset + length;
            if (Within(_committed, offset, end)) return;   // this owner's already
            bool resident = Within(_stale, offset, end);
            ZeroStale(offset, end);
            NoteCommitted(offset, end);
            if (resident) return;   // the last owner's pages, zeroed: no host fault needed
        }
        madvise(handle + (nint)offset, (nuint)length, madvPopulateWrite);
    }

    static bool Within(List<(long Start, long End)> ranges, long start, long end)
    {
        foreach (var (s, e) in ranges) if (s <= start && end <= e) return true;
        return false;
    }

    /// <summary>Zeroes the stale parts of [start, end), which stop being stale.</summary>
    void ZeroStale(long start, long end)
    {
        for (int i = _stale.Count - 1; i >= 0; i--)
        {
            var (s, e) = _stale[i];
            long a = Math.Max(s, start), b = Math.Min(e, end);
            if (a >= b) continue;
            NativeMemory.Clear((byte*)handle + a, (nuint)(b - a));
            _stale.RemoveAt(i);
            if (s < a) _stale.Add((s, a));
            if (b < e) _stale.Add((b, e));
        }
    }

    void NoteCommitted(long start, long end)
    {
        for (int i = 0; i < _committed.Count; i++)
        {
            var (s, e) = _committed[i];
            if (start > e || end < s) continue;
            _committed[i] = (Math.Min(s, start), Math.Max(e, end));
            return;
        }
        _committed.Add((start, end));
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
        if (_recyclable && HostMemoryRecycler.TryKeep(handle, Length, [.. _committed, .. _stale])) return true;
        if (OperatingSystem.IsLinux()) munmap(handle, (nuint)Length);
        else NativeMemory.Free((void*)handle);
        return true;
    }

    [DllImport("libc", SetLastError = true)]
    static extern nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    internal static extern int munmap(nint addr, nuint length);

    [DllImport("libc", SetLastError = true)]
    static extern int madvise(nint addr, nuint length, int advice);
}
