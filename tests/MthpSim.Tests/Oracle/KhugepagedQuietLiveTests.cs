using System.Diagnostics;
using MthpSim.Oracle.Compare;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;

namespace MthpSim.Tests.Oracle;

/// <summary>khugepaged must not run during a live scenario except in its khugepaged statements.</summary>
[Collection("live kernel")]
public class KhugepagedQuietLiveTests
{
    /// <summary>256 small pages in a PMD-aligned 2M VMA (max_ptes_none 511): any khugepaged pass would collapse them.</summary>
    static string Collapsible(int reads) =>
        "process p\np mmap a 0x40000000 1M\np write a 0 1M\np mmap b 0x40100000 1M\n"
        + string.Concat(Enumerable.Repeat("p read a 0 4K\nexpect p smaps a AnonHugePages == 0\n", reads));

    [LiveKernelFact]
    public void Khugepaged_is_asleep_at_the_baseline_and_sleeps_through_the_scenario()
    {
        KhugepagedThread.Sample? atEnd = null;
        var r = OracleRunner.Run("collapsible.mthp", Collapsible(50), _ => atEnd = KhugepagedThread.Read());
        Assert.True(r.Unavailable == null, r.Unavailable);
        Assert.Equal(0, r.ExitCode);
        Assert.DoesNotContain(r.Notes, n => n.Contains("khugepaged", StringComparison.Ordinal));
        Assert.NotNull(atEnd);
        Assert.True(atEnd!.Value.Pid == 0 || atEnd.Value.State == 'S', $"khugepaged is {atEnd.Value.State} at the end");
    }

    /// <summary>
    /// A second oracle run started while one is under way waits for the lock before it touches
    /// anything: the journal it finds is the running one's, not a leftover to restore (restoring it
    /// put the boot settings back mid-scenario, woke khugepaged, and deleted the journal the first
    /// run needed to restore at its end).
    /// </summary>
    [LiveKernelFact]
    public void A_run_waiting_for_the_lock_leaves_the_running_ones_settings_and_journal_alone()
    {
        var before = new LiveSettings().Snapshot();
        string dir = Path.Combine(Path.GetTempPath(), $"mthpsim-khp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string longFile = Path.Combine(dir, "long.mthp"), shortFile = Path.Combine(dir, "short.mthp");
        File.WriteAllText(longFile, Collapsible(1500));
        File.WriteAllText(shortFile, Collapsible(5));
        string journal = new LiveSettings().JournalPath;
        using var first = Cli(longFile);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(journal) && !first.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(10);
        using var second = Cli(shortFile);
        var (out1, err1) = Finish(first);
        var (out2, err2) = Finish(second);
        Directory.Delete(dir, recursive: true);
        Assert.True(first.ExitCode == 0, $"first run: exit {first.ExitCode}\n{out1[^Math.Min(out1.Length, 2000)..]}\n{err1}");
        Assert.True(second.ExitCode == 0, $"second run: exit {second.ExitCode}\n{out2}\n{err2}");
        Assert.DoesNotContain("interrupted run", err2, StringComparison.Ordinal);
        Assert.DoesNotContain("khugepaged woke", out1, StringComparison.Ordinal);
        Assert.Equal(before, new LiveSettings().Snapshot());
    }

    static Process Cli(string file) => Process.Start(new ProcessStartInfo("dotnet", [typeof(MthpSim.Cli.Program).Assembly.Location, "oracle", file])
    {
        RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
    })!;

    static (string Out, string Err) Finish(Process p)
    {
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (output, err.Result);
    }
}
