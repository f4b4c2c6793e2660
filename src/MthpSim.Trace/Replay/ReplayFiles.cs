using MthpSim.Core;
using MthpSim.Core.Shmem;

namespace MthpSim.Trace.Replay;

/// <summary>
/// The files a trace maps (executables, libraries, data files), as files of a tmpfs mount with
/// huge=never. A file that existed when the trace was recorded is read into the page cache whole
/// before it is first mapped, as a warm page cache holds it, so read faults map it with fault-around
/// as the live kernel does; a file the program made itself (memfd, /dev/shm, deleted) starts empty.
/// </summary>
sealed class ReplayFiles(Kernel k)
{
    readonly Dictionary<string, long> _recordedSize = new(StringComparer.Ordinal);
    readonly Dictionary<string, ShmemFile> _files = new(StringComparer.Ordinal);
    TmpfsMount? _mount;

    public long PrepopulatedPages { get; private set; }

    public void Recorded(string path, long size) => _recordedSize[path] = size;

    static bool WasOnDisk(string path) =>
        path.StartsWith('/') && !path.StartsWith("/dev/", StringComparison.Ordinal) && !path.StartsWith("/memfd:", StringComparison.Ordinal)
        && !path.EndsWith(" (deleted)", StringComparison.Ordinal);

    /// <summary>
    /// The file at <paramref name="path"/>: as long as it was when recorded (a mapping may reach past
    /// its end, as an ELF image's does, and fault-around must stop at i_size there too), or, for a
    /// file the trace gives no size of, at least <paramref name="minSize"/> bytes.
    /// </summary>
    public ShmemFile Get(string path, long minSize)
    {
        if (_recordedSize.TryGetValue(path, out long recorded)) minSize = recorded;
        if (_mount == null && k.TmpfsMount("never", null, out _mount) != 0) throw new InvalidOperationException("tmpfs mount failed");
        if (!_files.TryGetValue(path, out var f))
        {
            long size = Math.Max(minSize, _recordedSize.GetValueOrDefault(path));
            f = k.CreateFile(path, _mount!, size);
            _files[path] = f;
            if (WasOnDisk(path)) Fill(f, 0, size);
        }
        else if (f.Size < minSize)
        {
            long old = f.Size;
            k.Ftruncate(f, minSize);
            if (WasOnDisk(path)) Fill(f, old, minSize);
        }
        return f;
    }

    void Fill(ShmemFile f, long from, long to)
    {
        long ps = k.Geo.PageSize;
        from &= ~(ps - 1);
        if (to <= from) return;
        if (k.Pwrite(f, from, to - from) < 0) throw new InvalidOperationException($"out of simulated memory reading {f.Name} into the page cache");
        PrepopulatedPages += (to - from + ps - 1) / ps;
    }
}
