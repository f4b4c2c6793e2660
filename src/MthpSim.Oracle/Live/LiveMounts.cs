using System.Globalization;
using System.Runtime.InteropServices;
using MthpSim.Core;

namespace MthpSim.Oracle.Live;

/// <summary>
/// The tmpfs mounts of a scenario (<c>tmpfs MOUNT [huge=WORD] [size=SIZE]</c>), each on a directory of
/// its own under <c>tmpfs-PID/</c> beside the journal. Every mount point is written to the journal
/// before mount(2), so a run killed by SIGKILL leaves a list the next run unmounts first
/// (<see cref="CleanupFromJournal"/>); a run that ends any other way unmounts in <see cref="Dispose"/>.
/// </summary>
public sealed partial class LiveMounts : JournalledChange
{
    readonly string _dir;

    /// <param name="journal">The mount journal: one mount point per line.</param>
    public LiveMounts(string journal) : base(journal) =>
        _dir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(journal))!, $"tmpfs-{Environment.ProcessId}");

    /// <summary>The mount journal that goes with a settings journal.</summary>
    public static string JournalFor(string settingsJournal) => settingsJournal + ".mounts";

    /// <summary>Where files of MOUNT live (the directory exists only while the mount does).</summary>
    public string PathOf(string mount) => Path.Combine(_dir, mount);

    /// <summary>
    /// The mount's data string. Null for a huge word that would smuggle in other options (a comma,
    /// '='): a kernel would take those as further options, where the word itself is unknown (-EINVAL).
    /// </summary>
    public static string? Options(string huge, long? size)
    {
        if (huge.Length == 0 || huge.Contains(',') || huge.Contains('=')) return null;
        return size is long s ? $"huge={huge},size={s.ToString(CultureInfo.InvariantCulture)}" : $"huge={huge}";
    }

    /// <summary>Mounts a tmpfs for MOUNT; 0 or mount(2)'s -errno (then the directory is removed again, so files on it fail with -ENOENT).</summary>
    public long Mount(string mount, string huge, long? size)
    {
        string point = PathOf(mount);
        if (Options(huge, size) is not string data) return -Errno.EINVAL;
        lock (Lock)
        {
            if (Closed) throw new InvalidOperationException("the live session has stopped");
            Directory.CreateDirectory(point);
            File.AppendAllLines(Journal, [point]);
            int rc = Sys.Mount("tmpfs", point, "tmpfs", 0, data);
            if (rc != 0)
            {
                int err = Marshal.GetLastPInvokeError();
                try { Directory.Delete(point); } catch (IOException) { }
                return -err;
            }
            return 0;
        }
    }

    protected override List<string> Undo(string journal) => CleanupFromJournal(journal);

    /// <summary>
    /// Unmounts what a journal lists (only mount points under <c>tmpfs-*/</c> beside it: the journal
    /// is a plain file, and this must never unmount anything else), removes the directories, and
    /// deletes the journal once nothing is left mounted. Returns what could not be undone.
    /// </summary>
    public static List<string> CleanupFromJournal(string journal)
    {
        var errors = new List<string>();
        string root = Path.GetDirectoryName(Path.GetFullPath(journal))! + "/";
        var points = File.ReadAllLines(journal).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct().ToList();
        foreach (var point in points)
        {
            string full = Path.GetFullPath(point);
            string rel = full.StartsWith(root, StringComparison.Ordinal) ? full[root.Length..] : "";
            var parts = rel.Split('/');
            if (parts.Length != 2 || !parts[0].StartsWith("tmpfs-", StringComparison.Ordinal) || parts[1].Length == 0)
            {
                errors.Add($"the mount journal {journal} lists {point}, which is not one of its mount points; left alone");
                continue;
            }
            if (IsMountPoint(full) && Sys.Umount2(full, 0) != 0)
            {
                // Busy: a driver still holds a file. Detach it now; the kernel frees it with the last file.
                if (Sys.Umount2(full, MntDetach) != 0)
                {
                    errors.Add($"could not unmount {full}: errno {Marshal.GetLastPInvokeError()}");
                    continue;
                }
            }
            try { if (Directory.Exists(full)) Directory.Delete(full); }
            catch (IOException e) { errors.Add($"could not remove {full}: {e.Message}"); }
        }
        foreach (var dir in points.Select(p => Path.GetDirectoryName(Path.GetFullPath(p))!).Distinct())
        {
            if (!dir.StartsWith(root, StringComparison.Ordinal) || !Path.GetFileName(dir).StartsWith("tmpfs-", StringComparison.Ordinal)) continue;
            try { if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir); }
            catch (IOException) { }
        }
        if (errors.Count == 0) File.Delete(journal);
        return errors;
    }

    const int MntDetach = 2;

    /// <summary>Whether PATH is a mount point now (/proc/self/mountinfo, field 5).</summary>
    static bool IsMountPoint(string path) =>
        File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')).Any(f => f.Length > 4 && f[4] == path);

    static partial class Sys
    {
        [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Mount(string source, string target, string fstype, nuint flags, string data);

        [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Umount2(string target, int flags);
    }
}
