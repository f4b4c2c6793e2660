using Spectre.Console;

namespace MthpSim.Cli.Progress;

/// <summary>
/// Progress of a long command (done / total, rate, time left) on standard error, drawn only when
/// standard error is a terminal: a pipe or a file gets nothing, and standard output is never touched.
/// </summary>
public sealed class ProgressDisplay
{
    readonly IAnsiConsole? _console;

    ProgressDisplay(IAnsiConsole? console) => _console = console;

    /// <summary>No progress (output captured, as in tests, or not a terminal).</summary>
    public static readonly ProgressDisplay None = new(null);

    /// <summary>Whether it draws anything at all.</summary>
    public bool Enabled => _console != null;

    /// <summary>Progress on the process's standard error when it is a terminal that can draw it.</summary>
    public static ProgressDisplay ForStandardError() =>
        IsTerminal(Console.IsErrorRedirected, Environment.GetEnvironmentVariable("TERM"))
            ? new(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error), Interactive = InteractionSupport.Yes }))
            : None;

    /// <summary>A terminal that redraws in place: not redirected, and not TERM=dumb (an editor's shell buffer).</summary>
    public static bool IsTerminal(bool errorRedirected, string? term) => !errorRedirected && term != "dumb";

    /// <summary>A display on this console (tests draw into a string).</summary>
    public static ProgressDisplay On(IAnsiConsole console) => new(console);

    /// <summary>Runs <paramref name="work"/> with a progress display that is cleared when it returns.</summary>
    public T Run<T>(Func<ProgressScope, T> work)
    {
        if (_console == null) return work(ProgressScope.Silent);
        var rate = new RateColumn();
        return _console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn { Width = 24 }, new CountColumn(), rate, new RemainingTimeColumn())
            .Start(ctx =>
            {
                var result = work(new ProgressScope(ctx, rate));
                ctx.Refresh();   // the final figures drawn once, even when the work took less than a refresh period
                return result;
            });
    }
}
