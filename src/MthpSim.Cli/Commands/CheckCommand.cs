using System.CommandLine;
using MthpSim.Core;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary><c>mthpsim check FILE...</c>: parses only; reports every error with file:line:column.</summary>
public static class CheckCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Func<Stream> stdin)
    {
        var files = ScenarioFilesArgument.Create();
        var cmd = new Command("check", "Parse scenario files without running them; exit 0 when valid, 2 otherwise") { files };
        cmd.SetAction(pr =>
        {
            int status = 0;
            if (InputFile.RefuseStdinTwice("check", pr.GetValue(files)!) is string twice) { stderr.WriteLine(twice); return 2; }
            foreach (var f in pr.GetValue(files)!)
            {
                if (InputFile.ReadScenario(f, stdin, out string error) is not string text) { stderr.WriteLine(error); status = 2; continue; }
                var parsed = ScenarioParser.Parse(InputFile.Name(f), text);
                foreach (var d in parsed.Errors) stderr.WriteLine(d);
                if (!parsed.Success) { status = 2; continue; }
                stdout.WriteLine($"{Echo.Escape(InputFile.Name(f))}: ok ({parsed.Statements.Count} statements)");
            }
            return status;
        });
        return cmd;
    }
}
