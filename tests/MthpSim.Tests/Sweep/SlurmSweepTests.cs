using System.Diagnostics;
using MthpSim.Tests.Cli;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Sweep;

/// <summary>
/// deploy/slurm/sweep.sbatch on a real single-node Slurm (Debian's slurm-wlm and munge, installed,
/// configured and started by deploy/slurm/single-node-test.sh, stopped afterwards): the seed thread's
/// grid (220 cells) sharded four ways as a job array and merged gives what one local run with two
/// jobs gives, and is reported. Skipped with the script's reason where Slurm cannot be installed or started, or with
/// MTHPSIM_SLURM=0.
/// </summary>
public class SlurmSweepTests
{
    [SkippableFact]
    public void The_seed_thread_grid_sharded_four_ways_on_Slurm_and_merged_equals_a_local_run()
    {
        Skip.If(Environment.GetEnvironmentVariable("MTHPSIM_SLURM") == "0", "MTHPSIM_SLURM=0");
        Skip.IfNot(OperatingSystem.IsLinux(), "Slurm runs on Linux");
        string grid = Path.Combine(RepoPaths.Root, "scenarios", "sweeps", "seed-thread.grid");
        string dir = Path.Combine(Path.GetTempPath(), $"mthpsim-slurm-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string local = Path.Combine(dir, "local.jsonl");
        var run = CliRunner.Run("sweep", grid, "-o", local, "--jobs", "2");
        Assert.True(run.code == 0, run.stdout + run.stderr);
        Assert.Contains("220 cells", run.stdout);

        // The job array runs the same build's command line on the node.
        string mthpsim = Path.Combine(AppContext.BaseDirectory, "mthpsim");
        var psi = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "deploy", "slurm", "single-node-test.sh"), mthpsim, grid, "4", Path.Combine(dir, "slurm")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(entireProcessTree: true); Assert.Fail("the Slurm test script took over 5 minutes"); }
        Skip.If(p.ExitCode == 77, stderr.Result.Trim());
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}\n{stdout}\n{stderr.Result}");
        Assert.Contains("merged 220 of 220 cells", stdout);
        for (int i = 0; i < 4; i++) Assert.Contains($"shard {i}/4 of 220 cells: 55 cells", stderr.Result);
        string merged = Path.Combine(dir, "slurm", "merged.jsonl");
        Assert.Equal(SweepRunTests.WithoutTimes(local), SweepRunTests.WithoutTimes(merged));
        // And reported (ReportTests draws such a report in a browser).
        var report = CliRunner.Run("report", merged, "-o", Path.Combine(dir, "merged.html"));
        Assert.True(report.code == 0, report.stdout + report.stderr);
    }
}
