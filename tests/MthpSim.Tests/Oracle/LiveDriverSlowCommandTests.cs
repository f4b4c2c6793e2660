using MthpSim.Oracle.Live;

namespace MthpSim.Tests.Oracle;

/// <summary>
/// A driver command the kernel does not return from (ftruncate in shmem_undo_range() hung an oracle
/// fuzz run for ten minutes in silence) is reported while it lasts, with the driver's kernel stack.
/// A stand-in driver (a shell script speaking the protocol's first lines) answers late.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]   // a shell script stands in for the driver
public class LiveDriverSlowCommandTests
{
    static string StandIn(double answerAfterSeconds)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mthpsim-standin-{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, $"#!/bin/sh\necho \"ready $$ 4096\"\nread line\nsleep {answerAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}\necho \"ok 7\"\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public void A_command_left_unanswered_is_reported_with_the_command_and_the_kernel_stack()
    {
        string script = StandIn(3);
        var said = new StringWriter();
        var report = TextWriter.Synchronized(said);
        try
        {
            using var d = new LiveDriver(script) { SlowAfter = TimeSpan.FromMilliseconds(200), SlowReport = report };
            Assert.Equal(7, d.SendRc("ftruncate 3 1527808"));
            Assert.Contains($"live driver {d.Pid} has not answered 'ftruncate 3 1527808'", said.ToString());
            Assert.Contains("its kernel stack:", said.ToString());
        }
        finally { File.Delete(script); }
    }

    [Fact]
    public void A_command_answered_in_time_is_not_reported()
    {
        string script = StandIn(0);
        var said = new StringWriter();
        var report = TextWriter.Synchronized(said);
        try
        {
            using var d = new LiveDriver(script) { SlowAfter = TimeSpan.FromSeconds(5), SlowReport = report };
            Assert.Equal(7, d.SendRc("touch 0 0 0 0"));
            Assert.Equal("", said.ToString());
        }
        finally { File.Delete(script); }
    }
}
