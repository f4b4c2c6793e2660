namespace MthpSim.Cli.Progress;

/// <summary>
/// What a long command (run, compare, fuzz, bench) uses besides its output: a progress display and the
/// signals that interrupt it. The process gets both; a test running the CLI in-process gets neither.
/// </summary>
public sealed record LongCommandHooks(ProgressDisplay Progress, Func<Interruption> Interruptions)
{
    /// <summary>No progress, no signal handling.</summary>
    public static readonly LongCommandHooks None = new(ProgressDisplay.None, Interruption.Never);

    /// <summary>Progress when standard error is a terminal, and SIGINT/SIGTERM handled during the command.</summary>
    public static LongCommandHooks ForProcess() => new(ProgressDisplay.ForStandardError(), Interruption.Listen);
}
