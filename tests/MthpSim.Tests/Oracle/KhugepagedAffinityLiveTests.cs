using MthpSim.Core;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Tests.Oracle;

/// <summary>
/// khugepaged on the drivers' CPU in a one-CPU session (its charges and reclaim go through that
/// CPU's charge stock and swap clusters, as on the model's one CPU), journalled first, and given its
/// CPU mask back after the session, also from the journal a killed run leaves.
/// </summary>
[Collection("live kernel")]
public class KhugepagedAffinityLiveTests
{
    [Fact]
    public void A_cpu_mask_reads_back_as_it_was_written()
    {
        Assert.Equal("2", CpuAffinity.Format(CpuAffinity.Only(1)));
        Assert.Equal("100000000", CpuAffinity.Format(CpuAffinity.Only(32)));
        Assert.Equal(CpuAffinity.Only(70), CpuAffinity.Parse(CpuAffinity.Format(CpuAffinity.Only(70))));
        Assert.Null(CpuAffinity.Parse("xyz"));
        Assert.Null(CpuAffinity.Parse(""));
    }

    [Fact]
    public void A_journal_gives_masks_back_to_khugepaged_threads_only()
    {
        string journal = Path.Combine(Path.GetTempPath(), $"mthpsim-affinity-test-{Guid.NewGuid():N}");
        // This process is no khugepaged thread: its line is skipped, not applied to it.
        File.WriteAllLines(journal, [$"{Environment.ProcessId} 1"]);
        var mine = CpuAffinity.Get(Environment.ProcessId);
        Assert.Empty(LiveKhugepagedAffinity.CleanupFromJournal(journal));
        Assert.False(File.Exists(journal));
        Assert.Equal(mine, CpuAffinity.Get(Environment.ProcessId));

        File.WriteAllLines(journal, ["1 zz", "x 3"]);
        try
        {
            var errors = LiveKhugepagedAffinity.CleanupFromJournal(journal);
            Assert.Equal(2, errors.Count);
            Assert.All(errors, e => Assert.Contains("left alone", e));
            Assert.True(File.Exists(journal));   // kept, so that the refusal is seen again
        }
        finally { File.Delete(journal); }
    }

    [LiveKernelFact]
    public void In_a_one_cpu_session_khugepaged_runs_on_the_drivers_cpu_and_gets_its_mask_back()
    {
        if (Environment.ProcessorCount < 2) return;   // one CPU: every thread is on it already
        using var runLock = RunLock.Acquire();
        int pid = KhugepagedThread.FindPid();
        if (pid == 0) return;   // stopped here: nothing to pin
        var before = CpuAffinity.Get(pid)!;
        int cpu = Math.Min(Environment.ProcessorCount, 64) - 1;
        string journal = Path.Combine(Path.GetTempPath(), $"mthpsim-affinity-test-{Guid.NewGuid():N}");
        var sim = new ScenarioSession(new Kernel(ScenarioRunner.MachineFrom(null)));
        try
        {
            using (var live = new LiveSession(DriverBuilder.Ensure(), affinityJournal: journal))
            {
                live.Start(sim.Kernel, ["p"], freeHugeZeroPage: false, needsReclaim: false, oneCpu: true);
                Assert.Equal(CpuAffinity.Only(cpu), CpuAffinity.Get(pid));
                Assert.Equal($"{pid} {CpuAffinity.Format(before)}", File.ReadAllLines(journal).Single());
            }
            Assert.Equal(before, CpuAffinity.Get(pid));
            Assert.False(File.Exists(journal), "the pinning was not undone");

            // What a run killed by SIGKILL leaves: khugepaged pinned, and the journal.
            using (var left = new LiveKhugepagedAffinity(journal, cpu)) left.Follow();
            Assert.Equal(before, CpuAffinity.Get(pid));
            var killed = new LiveKhugepagedAffinity(journal, cpu);
            killed.Follow();
            Assert.Equal(CpuAffinity.Only(cpu), CpuAffinity.Get(pid));
            Assert.Empty(LiveKhugepagedAffinity.CleanupFromJournal(journal));
            Assert.Equal(before, CpuAffinity.Get(pid));
        }
        finally
        {
            if (File.Exists(journal)) LiveKhugepagedAffinity.CleanupFromJournal(journal);
            CpuAffinity.Set(pid, before);
        }
    }
}
