using System.Diagnostics;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Ci;

/// <summary>
/// .ci/run's closing line and exit status, with a stand-in `dotnet` on PATH that prints a given
/// test log and exits with a given status (the real suite is not run).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]   // a bash script, run as CI runs it
public sealed class CiRunScriptTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), $"mthpsim-ci-{Guid.NewGuid():N}");

    public CiRunScriptTests()
    {
        Directory.CreateDirectory(_dir);
        string fake = Path.Combine(_dir, "dotnet");
        File.WriteAllText(fake, "#!/bin/sh\ncat \"$FAKE_LOG\"\nexit \"$FAKE_STATUS\"\n");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    (int Code, string LastLine) Run(string log, int status)
    {
        string logFile = Path.Combine(_dir, "log");
        File.WriteAllText(logFile, log);
        var psi = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, ".ci/run")]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["PATH"] = _dir + ":" + Environment.GetEnvironmentVariable("PATH");
        psi.Environment["FAKE_LOG"] = logFile;
        psi.Environment["FAKE_STATUS"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        _ = err.Result;
        return (p.ExitCode, output.TrimEnd('\n').Split('\n')[^1]);
    }

    const string Passing = "Passed!  - Failed:     0, Passed:   812, Skipped:     6, Total:   818, Duration: 4 m 2 s - MthpSim.Tests.dll (net10.0)\n";

    [Fact]
    public void One_assembly_passing_with_skips()
    {
        var (code, last) = Run("Test run for MthpSim.Tests.dll (.NETCoreApp,Version=v10.0)\n" + Passing, 0);
        Assert.Equal("tests: 812 passed, 0 failed, 6 skipped", last);
        Assert.Equal(0, code);
    }

    [Fact]
    public void Several_assemblies_are_summed_and_the_status_is_kept()
    {
        var (code, last) = Run(Passing + "Failed!  - Failed:     2, Passed:    10, Skipped:     1, Total:    13, Duration: 1 s - Other.Tests.dll (net10.0)\n", 1);
        Assert.Equal("tests: 822 passed, 2 failed, 7 skipped", last);
        Assert.Equal(1, code);
    }

    [Fact]
    public void Colour_codes_do_not_hide_a_summary()
    {
        var (_, last) = Run("\u001b[32;1mPassed!\u001b[m  - Failed:     0, Passed:     3, Skipped:     2, Total:     5, Duration: 1 s - A.dll (net10.0)\n", 0);
        Assert.Equal("tests: 3 passed, 0 failed, 2 skipped", last);
    }

    [Theory]
    [InlineData(0, 1)]   // no summary is never a success
    [InlineData(3, 3)]
    public void No_summary_is_reported_and_fails(int status, int expected)
    {
        var (code, last) = Run("Build FAILED.\n", status);
        Assert.Equal("tests: no test summary found", last);
        Assert.Equal(expected, code);
    }
}
