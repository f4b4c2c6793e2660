using System.CommandLine;
using MthpSim.Core;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary><c>mthpsim check FILE...</c>: parses only; reports every error with file:line:column.</summary>
public static class CheckCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = ScenarioFilesArgument.Create();
        var cmd = new Command("check", "Parse scenario files without running them; exit 0 when valid, 2 otherwise") { files };
        cmd.SetAction(pr =>
        {
            int status = 0;
            foreach (var f in pr.GetValue(files)!)
            {
                if (InputFile.Read(f, out string error) is not string text) { stderr.WriteLine(error); status = 2; continue; }
                var parsed = ScenarioParser.Parse(f.ToString(), text);
                foreach (var d in parsed.Errors) stderr.WriteLine(d);
                if (!parsed.Success) { status = 2; continue; }
                stdout.WriteLine($"{f}: ok ({parsed.Statements.Count} statements)");
            }
            return status;
        });
        return cmd;
    }
}
