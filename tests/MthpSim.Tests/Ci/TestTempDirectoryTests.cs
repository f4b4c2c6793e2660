namespace MthpSim.Tests.Ci;

/// <summary>The run's temporary files go to a directory of its own, which the CLI processes it starts share.</summary>
public class TestTempDirectoryTests
{
    [Fact]
    public void Temporary_files_of_the_run_and_its_processes_go_to_its_own_directory()
    {
        string system = Path.GetFullPath(Path.Combine(TestTempDirectory.Path, ".."));
        Assert.StartsWith("mthpsim-tests-", Path.GetFileName(TestTempDirectory.Path));
        Assert.True(Directory.Exists(TestTempDirectory.Path));
        Assert.Equal(TestTempDirectory.Path, Path.GetTempPath().TrimEnd('/'));
        Assert.NotEqual(system.TrimEnd('/'), Path.GetTempPath().TrimEnd('/'));
        var psi = new System.Diagnostics.ProcessStartInfo("sh", ["-c", "echo $TMPDIR"]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        Assert.Equal(TestTempDirectory.Path, p.StandardOutput.ReadToEnd().Trim());
        p.WaitForExit();
    }
}
