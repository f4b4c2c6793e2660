using System.CommandLine;
using MthpSim.Cli.Commands;
using MthpSim.Cli.Progress;

namespace MthpSim.Cli;

/// <summary>Entry point of the <c>mthpsim</c> command.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error, Console.OpenStandardInput, LongCommandHooks.ForProcess());

    /// <summary>
    /// Runs the command line; exit status 2 for an invalid command line, as for an invalid file.
    /// Without <paramref name="hooks"/> (tests) no progress is drawn and signals are left alone.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, LongCommandHooks? hooks = null) => Run(args, stdout, stderr, () => Stream.Null, hooks);

    /// <summary>As above, with <paramref name="stdin"/> opening what a file argument '-' reads.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, Func<Stream> stdin, LongCommandHooks? hooks = null)
    {
        hooks ??= LongCommandHooks.None;
        var root = new RootCommand("mthpsim: a deterministic simulator of Linux 6.18 multi-size THP memory management")
        {
            RunCommand.Create(stdout, stderr, stdin, hooks),
            CheckCommand.Create(stdout, stderr, stdin),
            OracleCommand.Create(stdout, stderr, stdin),
            FuzzCommand.Create(stdout, stderr, hooks),
            CompareCommand.Create(stdout, stderr, stdin, hooks),
            BenchCommand.Create(stdout, stderr, hooks),
            RecordCommand.Create(stdout, stderr),
            ReplayCommand.Create(stdout, stderr),
            TraceCommand.Create(stdout, stderr, stdin),
            CalibrateCommand.Create(stdout, stderr),
            SweepCommand.Create(stdout, stderr, hooks),
            ReportCommand.Create(stdout, stderr),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) stderr.WriteLine($"mthpsim: {e.Message}");
            stderr.WriteLine("Try 'mthpsim --help'.");
            return 2;
        }
        // No System.CommandLine termination handler: its forced cancel after a signal threw from the
        // signal thread and killed an oracle run before it had restored the machine. A live run has
        // its own handler (SettingsGuard); run, compare and fuzz have theirs (Interruption) while they
        // run; elsewhere a signal ends the process as usual.
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null });
    }
}
