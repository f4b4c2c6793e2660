using System.CommandLine;
using MthpSim.Core;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary><c>mthpsim check FILE...</c>: everything <c>run</c> refuses a file for before it runs a statement (syntax,
/// and names the model does not know: observables, sysfs paths, policies), without running it; every error with file:line:column.</summary>
public static class CheckCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Func<Stream> stdin)
    {
        var files = ScenarioFilesArgument.Create();
        var assemblies = PolicyAssemblyOption.Create();
        var cmd = new Command("check", "Check scenario files as run would before running them; exit 0 when valid, 2 otherwise") { files, assemblies };
        cmd.SetAction(pr =>
        {
            if (PolicyAssemblyOption.Load(pr, assemblies, "check", stderr) == null) return 2;
            int status = 0;
            if (InputFile.RefuseStdinTwice("check", pr.GetValue(files)!) is string twice) { stderr.WriteLine(twice); return 2; }
            foreach (var f in pr.GetValue(files)!)
            {
                if (InputFile.ReadScenario(f, stdin, out string error) is not string text) { stderr.WriteLine(error); status = 2; continue; }
                var result = new RunResult { File = InputFile.Name(f) };
                if (ScenarioRunner.Prepare(InputFile.Name(f), text, result) is not { } prepared)
                {
                    foreach (var d in result.Invalid) stderr.WriteLine(d);
                    status = 2;
                    continue;
                }
                stdout.WriteLine($"{Echo.Escape(InputFile.Name(f))}: ok ({prepared.Statements.Count} statements)");
            }
            return status;
        });
        return cmd;
    }
}
