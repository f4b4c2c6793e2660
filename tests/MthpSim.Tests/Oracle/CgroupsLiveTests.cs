using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;

namespace MthpSim.Tests.Oracle;

/// <summary>
/// The oracle's memory cgroups on this machine: made for a scenario, journalled first, and removed
/// after it, also from the journal a killed run leaves. Needs root and cgroup v1: skipped otherwise.
/// </summary>
[Collection("live kernel")]
public class CgroupsLiveTests
{
    [Fact]
    public void A_journal_never_removes_anything_but_the_oracles_own_groups()
    {
        string journal = Path.Combine(Path.GetTempPath(), $"mthpsim-cgroups-test-{Environment.ProcessId}-foreign.cgroups");
        File.WriteAllLines(journal, ["/etc", "/sys/fs/cgroup/memory/system.slice", "/sys/fs/cgroup/memory/mthpsim-oracle-1/../x"]);
        try
        {
            var errors = LiveCgroups.CleanupFromJournal(journal);
            Assert.Equal(3, errors.Count);
            Assert.All(errors, e => Assert.Contains("left alone", e));
            Assert.True(Directory.Exists("/etc"));
            Assert.True(File.Exists(journal));   // kept, so that the refusal is seen again
        }
        finally { File.Delete(journal); }
    }

    [LiveKernelFact]
    public void A_group_exists_for_the_run_only_and_a_killed_runs_journal_removes_it()
    {
        if (LiveMemcg.OwnGroup() == null) return;   // no cgroup v1 memory controller here
        using var runLock = RunLock.Acquire();
        string journal = Path.Combine(Path.GetTempPath(), $"mthpsim-cgroups-test-{Environment.ProcessId}.cgroups");
        var groups = LiveCgroups.Start(journal);
        try
        {
            Assert.Equal(0, groups.Create("cg", 4L << 20));
            string path = File.ReadAllLines(journal).Single();
            Assert.True(Directory.Exists(path));
            Assert.Equal((4L << 20).ToString(), File.ReadAllText(Path.Combine(path, "memory.limit_in_bytes")).Trim());
            Assert.Equal(0, groups.SetLimit("cg", null));   // no limit again
            // A run killed now leaves the journal; the next run removes the group from there.
            Assert.Empty(LiveCgroups.CleanupFromJournal(journal));
            Assert.False(Directory.Exists(path));
            Assert.False(File.Exists(journal));
            Assert.Empty(groups.Cleanup());   // nothing left to undo
        }
        finally { groups.Dispose(); }
    }
}
