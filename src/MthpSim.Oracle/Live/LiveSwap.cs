using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace MthpSim.Oracle.Live;

/// <summary>
/// The scenario's swap device on the live machine (<c>machine swap=SIZE</c>, zram): zram0 given the
/// size, mkswap, swapon, for the scenario only (a DAMON worker pages out memory idle for about a
/// minute while any swap is on, so the window is kept short). The device is written to a journal
/// before it is touched, so a run killed by SIGKILL leaves a note the next run undoes first
/// (<see cref="CleanupFromJournal"/>): swapoff, then a zram reset. zswap is never touched.
/// </summary>
public sealed partial class LiveSwap : JournalledChange
{
    public const string Device = "/dev/zram0";
    const string SysDir = "/sys/block/zram0";

    LiveSwap(string journal) : base(journal) { }

    /// <summary>The swap journal that goes with a settings journal.</summary>
    public static string JournalFor(string settingsJournal) => settingsJournal + ".swap";

    /// <summary>Swap on zram0 of <paramref name="bytes"/>; the live kernel is unusable for the scenario when swap is on already or zram0 is busy.</summary>
    public static LiveSwap Start(long bytes, string journal)
    {
        if (ActiveSwaps().Count > 0)
            throw new OracleUnavailableException($"the live machine has swap on already ({string.Join(", ", ActiveSwaps())}); the scenario's swap would not be the only one");
        if (!Directory.Exists(SysDir)) throw new OracleUnavailableException("the live machine has no zram0 device for the scenario's swap");
        if (ReadSys("disksize") != "0") throw new OracleUnavailableException("zram0 is in use (its disksize is set); the oracle swaps only on an unused zram0");
        var swap = new LiveSwap(journal);
        try
        {
            File.WriteAllLines(journal, [Device]);
            File.WriteAllText(Path.Combine(SysDir, "disksize"), bytes.ToString(CultureInfo.InvariantCulture));
            Run("mkswap", Device);
            if (SwaponSys(Device, 0) != 0) throw new OracleUnavailableException($"swapon {Device} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OracleUnavailableException)
        {
            var left = swap.Cleanup();
            throw new OracleUnavailableException($"could not set up swap on zram0: {e.Message}{(left.Count > 0 ? "; " + string.Join("; ", left) : "")}");
        }
        return swap;
    }

    /// <summary>Turns the swap off and resets zram0, and removes the journal.</summary>
    protected override List<string> Undo(string journal) => CleanupFromJournal(journal);

    /// <summary>Undoes what a journal lists (only zram0: the journal is a plain file and must never turn off anything else).</summary>
    public static List<string> CleanupFromJournal(string journal)
    {
        var errors = new List<string>();
        foreach (var dev in File.ReadAllLines(journal).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct())
        {
            if (dev != Device) { errors.Add($"the swap journal {journal} lists {dev}, which is not the oracle's device; left alone"); continue; }
            // swapoff brings what is still swapped back into memory; the drivers are gone by now.
            if (ActiveSwaps().Contains(Device) && SwapoffSys(Device) != 0)
            {
                errors.Add($"could not swapoff {Device}: errno {Marshal.GetLastPInvokeError()}");
                continue;
            }
            try { File.WriteAllText(Path.Combine(SysDir, "reset"), "1"); }
            catch (IOException e) { errors.Add($"could not reset zram0: {e.Message}"); }
        }
        if (errors.Count == 0) File.Delete(journal);
        return errors;
    }

    /// <summary>The devices and files /proc/swaps lists.</summary>
    static List<string> ActiveSwaps() =>
        File.ReadAllLines("/proc/swaps").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 0).Select(f => f[0]).ToList();

    static string ReadSys(string name) => File.ReadAllText(Path.Combine(SysDir, name)).Trim();

    static void Run(string tool, string arg)
    {
        var psi = new ProcessStartInfo(tool, arg) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi) ?? throw new IOException($"could not start {tool}");
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new IOException($"{tool} {arg} failed: {err.Trim()}");
    }

    [LibraryImport("libc", EntryPoint = "swapon", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SwaponSys(string path, int flags);

    [LibraryImport("libc", EntryPoint = "swapoff", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SwapoffSys(string path);
}
