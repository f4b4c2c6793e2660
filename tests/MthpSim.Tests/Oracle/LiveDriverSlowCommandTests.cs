using MthpSim.Oracle.Live;

namespace MthpSim.Tests.Oracle;

/// <summary>
/// A driver command the kernel does not return from (ftruncate in shmem_undo_range() hung an oracle
/// fuzz run for ten minutes in silence) is reported while it lasts, with the driver's kernel stack.
/// A stand-in driver (a shell script speaking the protocol's first lines) answers late: only once the
/// report is made, so the test does not depend on when the thread pool runs the timer.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]   // a shell script stands in for the driver
public class LiveDriverSlowCommandTests
{
    /// <summary>
    /// A stand-in that answers once <paramref name="flag"/> exists (or at once for null), giving up
    /// the wait after a minute: the answer comes only after the report, however late the timer runs.
    /// </summary>
    static string StandIn(string? flag)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mthpsim-standin-{Guid.NewGuid():N}.sh");
        string wait = flag == null ? "" : $"i=0\nwhile [ ! -e '{flag}' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\n";
        File.WriteAllText(path, $"#!/bin/sh\necho \"ready $$ 4096\"\nread line\n{wait}echo \"ok 7\"\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>What the driver reports, kept; the first report also creates the flag file the stand-in waits for.</summary>
    sealed class FlaggingWriter(string? flag) : TextWriter
    {
        readonly StringWriter _said = new();
        public override System.Text.Encoding Encoding => _said.Encoding;
        public override void Write(char value) { lock (_said) _said.Write(value); }
        public override void Write(string? value)
        {
            lock (_said) _said.Write(value);
            if (flag != null) File.WriteAllText(flag, "");
        }
        public override string ToString() { lock (_said) return _said.ToString(); }
    }

    /// <summary>
    /// Sends one command to a stand-in; with <paramref name="waitForReport"/> it answers only once
    /// the driver has reported the command slow. Returns its rc, the driver's pid and what was reported.
    /// </summary>
    static (long Rc, int Pid, string Said) Send(string command, bool waitForReport, TimeSpan slowAfter)
    {
        string? flag = waitForReport ? Path.Combine(Path.GetTempPath(), $"mthpsim-standin-{Guid.NewGuid():N}.reported") : null;
        string script = StandIn(flag);
        var said = new FlaggingWriter(flag);
        try
        {
            using var d = new LiveDriver(script) { SlowAfter = slowAfter, SlowReport = said };
            return (d.SendRc(command), d.Pid, said.ToString());
        }
        finally
        {
            File.Delete(script);
            if (flag != null) File.Delete(flag);
        }
    }

    [Fact]
    public void A_command_left_unanswered_is_reported_with_the_command_and_the_kernel_stack()
    {
        var (rc, pid, said) = Send("ftruncate 3 1527808", waitForReport: true, TimeSpan.FromMilliseconds(200));
        Assert.Equal(7, rc);
        Assert.Contains($"live driver {pid} has not answered 'ftruncate 3 1527808'", said);
        Assert.Contains("its kernel stack:", said);
    }

    [Fact]
    public void A_command_answered_in_time_is_not_reported()
    {
        var (rc, _, said) = Send("touch 0 0 0 0", waitForReport: false, TimeSpan.FromSeconds(5));
        Assert.Equal(7, rc);
        Assert.Equal("", said);
    }
}
