using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MthpSim.Core.Swap;

namespace MthpSim.Oracle.Live;

/// <summary>
/// The scenario's swap device on the live machine (<c>machine swap=SIZE swapdev=...</c>), for the
/// scenario only (a DAMON worker pages out memory idle for about a minute while any swap is on, so
/// the window is kept short): <c>zram</c> is zram0 given the size; <c>disk</c> a loop device over a
/// file of that size; <c>file</c> a swap file; then mkswap and swapon. What is about to be made is
/// written to a journal first, so a run killed by SIGKILL leaves a note the next run undoes
/// (<see cref="CleanupFromJournal"/>): swapoff, loop devices detached, files removed, zram reset.
/// zswap is never touched.
/// </summary>
public sealed partial class LiveSwap : JournalledChange
{
    public const string Device = "/dev/zram0";
    const string SysDir = "/sys/block/zram0";
    /// <summary>Backing files are made here (a disk filesystem: swapon refuses tmpfs files), and only files with this prefix are ever removed.</summary>
    const string FilePrefix = "/var/tmp/mthpsim-oracle-swap-";

    LiveSwap(string journal) : base(journal) { }

    /// <summary>The swap journal that goes with a settings journal.</summary>
    public static string JournalFor(string settingsJournal) => settingsJournal + ".swap";

    /// <summary>Swap of <paramref name="bytes"/> on a device of <paramref name="kind"/>; the live kernel is unusable for the scenario when swap is on already or zram0 is busy.</summary>
    public static LiveSwap Start(SwapDeviceKind kind, long bytes, string journal)
    {
        if (ActiveSwaps().Count > 0)
            throw new OracleUnavailableException($"the live machine has swap on already ({string.Join(", ", ActiveSwaps())}); the scenario's swap would not be the only one");
        if (kind == SwapDeviceKind.Zram)
        {
            if (!Directory.Exists(SysDir)) throw new OracleUnavailableException("the live machine has no zram0 device for the scenario's swap");
            if (ReadSys("disksize") != "0") throw new OracleUnavailableException("zram0 is in use (its disksize is set); the oracle swaps only on an unused zram0");
        }
        var swap = new LiveSwap(journal);
        try
        {
            string target;
            if (kind == SwapDeviceKind.Zram)
            {
                File.WriteAllLines(journal, ["zram " + Device]);
                File.WriteAllText(Path.Combine(SysDir, "disksize"), bytes.ToString(CultureInfo.InvariantCulture));
                target = Device;
            }
            else
            {
                string file = FilePrefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".img";
                File.WriteAllLines(journal, ["file " + file]);
                Run("fallocate", "-l", bytes.ToString(CultureInfo.InvariantCulture), file);
                Run("chmod", "600", file);
                target = file;
                if (kind == SwapDeviceKind.Disk)
                {
                    File.AppendAllLines(journal, ["loop " + file]);
                    target = Run("losetup", "--find", "--show", file).Trim();
                }
            }
            Run("mkswap", target);
            if (SwaponSys(target, 0) != 0) throw new OracleUnavailableException($"swapon {target} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OracleUnavailableException)
        {
            var left = swap.Cleanup();
            throw new OracleUnavailableException($"could not set up swap ({kind.ToString().ToLowerInvariant()}): {e.Message}{(left.Count > 0 ? "; " + string.Join("; ", left) : "")}");
        }
        return swap;
    }

    /// <summary>Turns the swap off and undoes its device, and removes the journal.</summary>
    protected override List<string> Undo(string journal) => CleanupFromJournal(journal);

    /// <summary>
    /// Undoes what a journal lists: only zram0, loop devices over the oracle's own files and those
    /// files (the journal is a plain file and must never turn off or remove anything else).
    /// </summary>
    public static List<string> CleanupFromJournal(string journal)
    {
        var errors = new List<string>();
        var entries = File.ReadAllLines(journal).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct()
            .Select(l => l == Device ? ("zram", Device) : (l.Split(' ', 2)[0], l.Split(' ', 2).ElementAtOrDefault(1) ?? "")).ToList();
        foreach (var (what, path) in entries)
        {
            bool ours = what == "zram" ? path == Device : (what is "file" or "loop") && IsOracleFile(path);
            if (!ours) { errors.Add($"the swap journal {journal} lists '{what} {path}', which is not the oracle's; left alone"); continue; }
            // swapoff brings what is still swapped back into memory; the drivers are gone by now.
            var devices = what == "loop" ? LoopDevicesOver(path) : [path];
            foreach (var dev in devices)
                if (ActiveSwaps().Contains(dev) && SwapoffSys(dev) != 0)
                    errors.Add($"could not swapoff {dev}: errno {Marshal.GetLastPInvokeError()}");
        }
        if (errors.Count > 0) return errors;
        foreach (var (what, path) in entries.Where(e => e.Item1 == "loop"))
            foreach (var dev in LoopDevicesOver(path))
                try { Run("losetup", "-d", dev); }
                catch (IOException e) { errors.Add($"could not detach {dev}: {e.Message}"); }
        foreach (var (what, path) in entries.Where(e => e.Item1 == "file"))
            try { File.Delete(path); }
            catch (IOException e) { errors.Add($"could not remove {path}: {e.Message}"); }
        if (entries.Any(e => e.Item1 == "zram"))
            try { File.WriteAllText(Path.Combine(SysDir, "reset"), "1"); }
            catch (IOException e) { errors.Add($"could not reset zram0: {e.Message}"); }
        if (errors.Count == 0) File.Delete(journal);
        return errors;
    }

    static bool IsOracleFile(string path) =>
        path.StartsWith(FilePrefix, StringComparison.Ordinal) && !path.Contains("..", StringComparison.Ordinal) && path.IndexOf('/', FilePrefix.Length) < 0;

    /// <summary>The loop devices whose backing file is <paramref name="file"/>.</summary>
    static List<string> LoopDevicesOver(string file) =>
        Directory.Exists("/sys/block")
            ? Directory.GetDirectories("/sys/block", "loop*").Order(StringComparer.Ordinal)
                .Where(d => File.Exists(Path.Combine(d, "loop", "backing_file")) && File.ReadAllText(Path.Combine(d, "loop", "backing_file")).Trim() == file)
                .Select(d => "/dev/" + Path.GetFileName(d)).ToList()
            : [];

    /// <summary>The devices and files /proc/swaps lists.</summary>
    static List<string> ActiveSwaps() =>
        File.ReadAllLines("/proc/swaps").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 0).Select(f => f[0]).ToList();

    static string ReadSys(string name) => File.ReadAllText(Path.Combine(SysDir, name)).Trim();

    static string Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new IOException($"could not start {tool}");
        string err = p.StandardError.ReadToEnd();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new IOException($"{tool} {string.Join(' ', args)} failed: {err.Trim()}");
        return output;
    }

    [LibraryImport("libc", EntryPoint = "swapon", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SwaponSys(string path, int flags);

    [LibraryImport("libc", EntryPoint = "swapoff", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SwapoffSys(string path);
}
