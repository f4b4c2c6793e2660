using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;

namespace MthpSim.Tests.Oracle;

/// <summary>
/// The oracle's swap device on this machine: zram0 set up for a scenario and undone after it, also
/// from the journal a killed run leaves. Takes the oracle's run lock (the swap is machine-wide) and
/// leaves zram0 as it found it. Needs root: skipped otherwise.
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
        var swap = LiveSwap.Start(1L << 20, journal);
        try
        {
            Assert.True(ZramSwapOn());
            Assert.Equal([LiveSwap.Device], File.ReadAllLines(journal));
            // What a second run finds while this one holds zram0: refused, not shared.
            var busy = Assert.Throws<OracleUnavailableException>(() => LiveSwap.Start(1L << 20, journal + ".2"));
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
}
