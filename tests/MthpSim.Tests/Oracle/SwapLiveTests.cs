using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;

namespace MthpSim.Tests.Oracle;

/// <summary>
/// The oracle's swap devices on this machine: zram0, a loop device over a file, or a swap file, set
/// up for a scenario and undone after it, also from the journal a killed run leaves. Takes the
/// oracle's run lock (the swap is machine-wide) and leaves the machine as it found it. Needs root:
/// skipped otherwise.
/// </summary>
[Collection("live kernel")]
public class SwapLiveTests
{
    static bool ZramSwapOn() => File.ReadAllLines("/proc/swaps").Skip(1).Any(l => l.StartsWith(LiveSwap.Device + " ", StringComparison.Ordinal));

    [LiveKernelFact]
    public void Swap_is_on_for_the_run_only_and_a_killed_runs_journal_turns_it_off()
    {
        using var runLock = RunLock.Acquire();
        string journal = Path.Combine(Path.GetTempPath(), $"mthpsim-swap-test-{Environment.ProcessId}.swap");
        var swap = LiveSwap.Start(MthpSim.Core.Swap.SwapDeviceKind.Zram, 1L << 20, journal);
        try
        {
            Assert.True(ZramSwapOn());
            Assert.Equal(["zram " + LiveSwap.Device], File.ReadAllLines(journal));
            // What a second run finds while this one holds zram0: refused, not shared.
            var busy = Assert.Throws<OracleUnavailableException>(() => LiveSwap.Start(MthpSim.Core.Swap.SwapDeviceKind.Zram, 1L << 20, journal + ".2"));
            Assert.Contains("swap on already", busy.Message);
            // A run killed now leaves the journal; the next run undoes it from there.
            Assert.Empty(LiveSwap.CleanupFromJournal(journal));
            Assert.False(ZramSwapOn());
            Assert.Equal("0", File.ReadAllText("/sys/block/zram0/disksize").Trim());
            Assert.False(File.Exists(journal));
            Assert.Empty(swap.Cleanup());   // nothing left to undo
        }
        finally { swap.Dispose(); }
        Assert.False(ZramSwapOn());
    }

    static List<string> Swaps() => File.ReadAllLines("/proc/swaps").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).ToList();

    static List<string> OracleLoops() => Directory.GetDirectories("/sys/block", "loop*")
        .Where(d => File.Exists(Path.Combine(d, "loop", "backing_file")) && File.ReadAllText(Path.Combine(d, "loop", "backing_file")).Contains("mthpsim-oracle-swap-", StringComparison.Ordinal))
        .ToList();

    [LiveKernelTheory]
    [InlineData(MthpSim.Core.Swap.SwapDeviceKind.Disk)]
    [InlineData(MthpSim.Core.Swap.SwapDeviceKind.File)]
    public void A_disk_or_file_swap_is_made_for_the_run_and_a_killed_runs_journal_removes_it(MthpSim.Core.Swap.SwapDeviceKind kind)
    {
        using var runLock = RunLock.Acquire();
        string journal = Path.Combine(Path.GetTempPath(), $"mthpsim-swap-test-{Environment.ProcessId}-{kind}.swap");
        string file = $"/var/tmp/mthpsim-oracle-swap-{Environment.ProcessId}.img";
        var swap = LiveSwap.Start(kind, 4L << 20, journal);
        try
        {
            var swaps = Swaps();
            Assert.Single(swaps);
            Assert.Equal(kind == MthpSim.Core.Swap.SwapDeviceKind.Disk ? "/dev/loop" : file, kind == MthpSim.Core.Swap.SwapDeviceKind.Disk ? swaps[0][..9] : swaps[0]);
            Assert.Equal(kind == MthpSim.Core.Swap.SwapDeviceKind.Disk ? ["file " + file, "loop " + file] : ["file " + file], File.ReadAllLines(journal));
            // A run killed now leaves the journal; the next run undoes it from there.
            Assert.Empty(LiveSwap.CleanupFromJournal(journal));
            Assert.Empty(Swaps());
            Assert.Empty(OracleLoops());
            Assert.False(File.Exists(file));
            Assert.False(File.Exists(journal));
            Assert.Empty(swap.Cleanup());
        }
        finally { swap.Dispose(); }
        Assert.Empty(Swaps());
    }

    [Fact]
    public void A_journal_naming_files_not_the_oracles_is_left_alone()
    {
        string journal = Path.Combine(Path.GetTempPath(), $"mthpsim-swap-test-{Environment.ProcessId}-foreign.swap");
        File.WriteAllLines(journal, ["file /etc/passwd", "loop /var/tmp/mthpsim-oracle-swap-1/../../etc/shadow", "zram /dev/sda"]);
        try
        {
            var errors = LiveSwap.CleanupFromJournal(journal);
            Assert.Equal(3, errors.Count);
            Assert.All(errors, e => Assert.Contains("not the oracle's; left alone", e));
            Assert.True(File.Exists("/etc/passwd"));
            Assert.True(File.Exists(journal));
        }
        finally { File.Delete(journal); }
    }
}
