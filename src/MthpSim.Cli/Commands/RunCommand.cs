using System.CommandLine;
using MthpSim.Cli.Progress;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary><c>mthpsim run FILE...</c>: executes scenarios and reports every failing expectation.</summary>
public static class RunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Func<Stream> stdin, LongCommandHooks? hooks = null)
    {
        hooks ??= LongCommandHooks.None;
        var files = ScenarioFilesArgument.Create();
        var json = new Option<bool>("--json") { Description = "Write a machine-readable result (every expectation, print and counter's final value) instead of text; schema in docs/json-output.md" };
        var check = new Option<bool>("--check") { Description = "After every statement, run the invariant checker and compare page contents with the record of what the programs stored" };
        var assemblies = PolicyAssemblyOption.Create();
        var cmd = new Command("run", "Run scenario files; exit 0 when every expectation holds, 1 when some fail, 2 for an invalid file, 130/143 when interrupted") { files, json, check, assemblies };
        cmd.SetAction(pr =>
        {
            if (PolicyAssemblyOption.Load(pr, assemblies, "run", stderr) == null) return 2;
            var results = new List<RunResult>();
            bool asJson = pr.GetValue(json);
            var paths = pr.GetValue(files)!;
            if (InputFile.RefuseStdinTwice("run", paths) is string twice) { stderr.WriteLine(twice); return 2; }
            using var interruption = hooks.Interruptions();
            // While progress is drawn, what would go to the same terminal waits until it is cleared:
            // the same bytes, later, instead of lines torn by the redrawing.
            var output = hooks.Progress.Enabled && !Console.IsOutputRedirected ? new StringWriter() : stdout;
            var errors = hooks.Progress.Enabled ? new StringWriter() : stderr;
            hooks.Progress.Run(scope =>
            {
                var filesLine = paths.Length > 1 ? scope.Add("files", paths.Length, "files") : null;
                var statementsLine = scope.Add(InputFile.ShortName(paths[0]), 1, "statements");
                foreach (var f in paths)
                {
                    if (interruption.Token.IsCancellationRequested) break;
                    statementsLine.Restart(InputFile.ShortName(f), 1);   // the name alone: a long path would crowd out the rate
                    if (InputFile.ReadScenario(f, stdin, out string error) is not string text)
                    {
                        errors.WriteLine(error);
                        // Reported like any invalid file, so the files after it still run and JSON lists it.
                        results.Add(ResultReport.Unreadable(InputFile.Name(f), error));
                        filesLine?.Set(results.Count);
                        continue;
                    }
                    var options = new RunOptions
                    {
                        CheckInvariants = pr.GetValue(check),
                        Output = asJson ? null : output,
                        KeepPrints = asJson,
                        Cancel = interruption.Token,
                        StatementDone = hooks.Progress.Enabled ? statementsLine.Counted : null,
                    };
                    RunResult result;
                    try { result = ScenarioRunner.RunText(InputFile.Name(f), text, options); }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // A fault of the simulator's: this file aborts, the others still run.
                        errors.WriteLine($"mthpsim: internal error running {Echo.Escape(InputFile.Name(f))}: {e}");
                        result = ResultReport.Crashed(InputFile.Name(f), e);
                    }
                    results.Add(result);
                    if (!asJson) ResultReport.WriteText(result, output, errors);
                    filesLine?.Set(results.Count);
                }
                return 0;
            });
            if (output != stdout) stdout.Write(output.ToString());
            if (errors != stderr) stderr.Write(errors.ToString());
            bool interrupted = interruption.Signal != null;
            if (asJson) ResultReport.WriteJson(results, stdout, interrupted);
            if (interrupted)
            {
                stderr.WriteLine(ResultReport.InterruptedSummary(results, paths.Length));
                return interruption.ExitStatus;
            }
            return results.Max(r => r.ExitCode);
        });
        return cmd;
    }
}
