using System.Globalization;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;
using MthpSim.Tests.Cli;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Oracle;

/// <summary>A sysctl a killed oracle run changed is put back, from its journal, by the next run.</summary>
[Collection("live kernel")]
public class LiveSysctlLeftoverLiveTests
{
    [LiveKernelFact]
    public void The_next_oracle_run_restores_a_sysctl_a_killed_run_changed()
    {
        var sysctl = LiveSysctl.WatermarkBoostFactor;
        string original = File.ReadAllText(sysctl.Path).Trim();
        string journal = sysctl.JournalFor(new LiveSettings().JournalPath);
        try
        {
            // What a run killed by SIGKILL leaves: the journal of the value it found, and its own value.
            Directory.CreateDirectory(Path.GetDirectoryName(journal)!);
            File.WriteAllText(journal, original + "\n");
            File.WriteAllText(sysctl.Path, (long.Parse(original, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture));
            var (code, stdout, stderr) = CliRunner.Run("oracle", Path.Combine(RepoPaths.Root, "tests/oracle/compaction/compact-memory-keeps-pmd-thps.mthp"));
            Assert.True(code == 0, stdout + stderr);
            Assert.Equal(original, File.ReadAllText(sysctl.Path).Trim());
            Assert.False(File.Exists(journal));
        }
        finally
        {
            File.WriteAllText(sysctl.Path, original);
            File.Delete(journal);
        }
    }
}
