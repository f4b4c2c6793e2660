using System.Diagnostics;
using System.Text.Json;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Cli;

/// <summary>
/// SIGINT and SIGTERM stop run, compare, fuzz and bench after the statement, episode or pattern they are in: what
/// finished is reported (stdout as usual, one summary line on stderr) and the exit status is 130 or
/// 143. The CLI runs as a child process, which gets the signal; no assertion is about timing.
/// </summary>
public class InterruptionTests
{
    const string SIGINT = "INT", SIGTERM = "TERM";

    /// <summary>Sends a signal with kill(1); true when it was delivered.</summary>
    static bool Kill(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        return kill.ExitCode == 0;
    }

    /// <summary>
    /// 100,000 statements over 1 GiB of written memory: with --check (the invariant checker walks it
    /// all after each statement) minutes of work, long enough to be interrupted.
    /// </summary>
    static string CheckedLong() =>
        CliRunner.Temp("process p\np mmap big any 1G\np write big 0 1G\n" + string.Concat(Enumerable.Repeat("sleep 1s\n", 100_000)));

    /// <summary>200,000 statements that rewrite 64 MiB (seconds each run, for compare, which has no --check).</summary>
    static string WritingLong()
    {
        var lines = new List<string> { "process p", "p mmap big any 64M" };
        for (int i = 0; i < 100_000; i++) { lines.Add("p write big 0 64M"); lines.Add("p madvise big 0 64M dontneed"); }
        return CliRunner.Temp(string.Join('\n', lines) + "\n");
    }

    static string Quick() => CliRunner.Temp("process p\np mmap a any 2M\np write a 0 4K\nexpect p smaps a Rss > 0kB\n");

    /// <summary>
    /// Starts the CLI, waits until <paramref name="ready"/> holds for what it has printed so far (or,
    /// with none, until it has used some CPU time in the command), sends <paramref name="signal"/>
    /// and returns how it ended.
    /// </summary>
    static (int Exit, string Stdout, string Stderr) Interrupt(string[] args, string signal, Func<string, bool>? ready = null)
    {
        // Through env(1) with SIGINT's default action: a process a non-interactive shell started in
        // the background (a CI script's job, nohup ... &) ignores SIGINT, the CLI would inherit that,
        // and SIGINT would do nothing; a user's Ctrl-C reaches a foreground command, which does not ignore it.
        var psi = new ProcessStartInfo("env", ["--default-signal=INT", "dotnet", typeof(MthpSim.Cli.Program).Assembly.Location, .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        try { return Interrupt(p, signal, ready); }
        finally { if (!p.HasExited) p.Kill(); }   // a failed test leaves no command running
    }

    static (int Exit, string Stdout, string Stderr) Interrupt(Process p, string signal, Func<string, bool>? ready)
    {
        var stdout = new System.Text.StringBuilder();
        var stderr = p.StandardError.ReadToEndAsync();
        var reading = Task.Run(() =>
        {
            var buf = new char[4096];
            int n;
            while ((n = p.StandardOutput.Read(buf, 0, buf.Length)) > 0) lock (stdout) stdout.Append(buf, 0, n);
        });
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!p.HasExited && DateTime.UtcNow < deadline)
        {
            bool go;
            if (ready != null) { lock (stdout) go = ready(stdout.ToString()); }
            else go = CpuSeconds(p.Id) >= 2;   // well past start-up (under 1 s of CPU), inside the command
            if (go) break;
            Thread.Sleep(50);
        }
        // (The message is built only on failure: stderr.Result waits for the command to end.)
        if (p.HasExited) Assert.Fail($"the command ended before it could be interrupted:\n{stdout}\n{stderr.Result}");
        Assert.True(Kill(p.Id, signal), $"kill -s {signal} {p.Id} failed");
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(); Assert.Fail("the command did not stop after the signal"); }
        reading.Wait();
        return (p.ExitCode, stdout.ToString(), stderr.Result);
    }

    /// <summary>User and system CPU time the process has used (/proc/PID/stat, in clock ticks of 1/100 s).</summary>
    static double CpuSeconds(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;   // utime, stime (fields 14, 15)
        }
        catch (IOException) { return 0; }
    }

    [Fact]
    public void Sigterm_during_run_reports_the_finished_files_and_exits_143()
    {
        string quick = Quick(), longer = CheckedLong(), last = Quick();
        var (exit, stdout, stderr) = Interrupt(["run", "--check", quick, longer, last], SIGTERM, ready: o => o.Contains($"PASS {quick}"));
        Assert.True(exit == 143, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Contains($"PASS {quick}: 1 of 1 expectations hold", stdout);
        Assert.Contains($"INTERRUPTED {longer}: after ", stdout);
        Assert.DoesNotContain(last, stdout);
        Assert.Matches($@"interrupted: 1 of 3 files run, 1 passed, 0 failed; {System.Text.RegularExpressions.Regex.Escape(longer)} stopped after \d+ of 100003 statements; 1 not run\n", stderr.Replace("\r", ""));
    }

    [Fact]
    public void Sigint_during_run_json_writes_a_valid_document_marked_interrupted_and_exits_130()
    {
        var (exit, stdout, stderr) = Interrupt(["run", "--check", "--json", Quick(), CheckedLong()], SIGINT);
        Assert.True(exit == 130, $"exit {exit}\n{stdout}\n{stderr}");
        JsonSchemaTests.AssertMatchesSchema("run", stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("interrupted").GetBoolean());
        var files = doc.RootElement.GetProperty("files");
        Assert.Equal(2, files.GetArrayLength());
        Assert.True(files[0].GetProperty("passed").GetBoolean());
        Assert.True(files[1].GetProperty("interrupted").GetBoolean());
        Assert.Contains("interrupted: 1 of 2 files run, 1 passed, 0 failed;", stderr);
    }

    [Fact]
    public void Sigint_during_fuzz_reports_the_operations_run_and_exits_130()
    {
        var (exit, stdout, stderr) = Interrupt(["fuzz", "--ops", "100000000", "--jobs", "1"], SIGINT);
        Assert.True(exit == 130, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Matches(@"^INTERRUPTED after \d+ operations in \d+ episodes: no invariant violation, no lost content so far\n", stdout.Replace("\r", ""));
        Assert.Matches(@"interrupted: \d+ of 100000000 operations run \(\d+ episodes\), no failure; \d+ not run\n", stderr.Replace("\r", ""));
    }

    [Fact]
    public void Sigterm_during_compare_reports_the_finished_runs_and_exits_143()
    {
        var (exit, stdout, stderr) = Interrupt(["compare", "--json", WritingLong()], SIGTERM);
        Assert.True(exit == 143, $"exit {exit}\n{stdout}\n{stderr}");
        JsonSchemaTests.AssertMatchesSchema("compare", stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("interrupted").GetBoolean());
        Assert.Matches(@"interrupted: [0-3] of 4 runs \(files x policies\) finished", stderr);
    }

    [Fact]
    public void Sigint_during_bench_reports_the_patterns_measured_so_far_and_exits_130()
    {
        var (exit, stdout, stderr) = Interrupt(["bench", "--quick", "--runs", "100000", "--json"], SIGINT);
        Assert.True(exit == 130, $"exit {exit}\n{stdout}\n{stderr}");
        JsonSchemaTests.AssertMatchesSchema("bench", stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("interrupted").GetBoolean());
        foreach (var p in doc.RootElement.GetProperty("patterns").EnumerateArray())
            Assert.InRange(p.GetProperty("runs").GetInt32(), 1, 99_999);
        Assert.Matches(@"interrupted by SIGINT: \d+ of \d+ patterns measured\n", stderr.Replace("\r", ""));
    }
}
