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

    /// <summary>Sends one command to a stand-in that answers after <paramref name="answerAfter"/> s; returns its rc, the driver's pid and what was reported.</summary>
    static (long Rc, int Pid, string Said) Send(string command, double answerAfter, TimeSpan slowAfter)
    {
        string script = StandIn(answerAfter);
        var said = new StringWriter();
        try
        {
            using var d = new LiveDriver(script) { SlowAfter = slowAfter, SlowReport = TextWriter.Synchronized(said) };
            return (d.SendRc(command), d.Pid, said.ToString());
        }
        finally { File.Delete(script); }
    }

    [Fact]
    public void A_command_left_unanswered_is_reported_with_the_command_and_the_kernel_stack()
    {
        var (rc, pid, said) = Send("ftruncate 3 1527808", answerAfter: 3, TimeSpan.FromMilliseconds(200));
        Assert.Equal(7, rc);
        Assert.Contains($"live driver {pid} has not answered 'ftruncate 3 1527808'", said);
        Assert.Contains("its kernel stack:", said);
    }

    [Fact]
    public void A_command_answered_in_time_is_not_reported()
    {
        var (rc, _, said) = Send("touch 0 0 0 0", answerAfter: 0, TimeSpan.FromSeconds(5));
        Assert.Equal(7, rc);
        Assert.Equal("", said);
    }
}
