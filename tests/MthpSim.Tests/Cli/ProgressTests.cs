using MthpSim.Cli;
using MthpSim.Cli.Progress;
using MthpSim.Tests.Scenarios;
using Spectre.Console;
using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

/// <summary>Progress is drawn on standard error when it is a terminal, never on standard output.</summary>
public class ProgressTests
{
    [Theory]
    [InlineData(false, "xterm-256color", true)]
    [InlineData(false, null, true)]
    [InlineData(true, "xterm-256color", false)]   // a pipe or a file: nothing
    [InlineData(false, "dumb", false)]            // a terminal that cannot redraw in place
    public void Progress_is_drawn_only_on_a_terminal(bool errorRedirected, string? term, bool drawn) =>
        Assert.Equal(drawn, ProgressDisplay.IsTerminal(errorRedirected, term));

    [Fact]
    public void Run_draws_files_and_statements_with_rate_and_time_left_and_leaves_stdout_as_it_was()
    {
        string a = Path.Combine(RepoPaths.Root, "scenarios/examples/fault-64k.mthp");
        string b = Temp("process p\np mmap a any 2M\np write a 0 4K\nprint p smaps a\nexpect p smaps a Rss > 0kB\n");
        var terminal = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(terminal), Interactive = InteractionSupport.Yes, Ansi = AnsiSupport.Yes,
        });
        console.Profile.Width = 120;
        var stdout = new StringWriter();
        int code = Program.Run(["run", a, b], stdout, new StringWriter(), new LongCommandHooks(ProgressDisplay.On(console), Interruption.Never));
        var plain = Run("run", a, b);
        Assert.Equal(plain.code, code);
        Assert.Equal(plain.stdout, stdout.ToString());
        string drawn = terminal.ToString();
        Assert.True(drawn.Contains("files/s") && drawn.Contains("statements/s"), drawn);
        Assert.Matches(@"(--:--:--|\d\d:\d\d:\d\d)", drawn);   // the time left (dashes before a rate is known)
    }
}
