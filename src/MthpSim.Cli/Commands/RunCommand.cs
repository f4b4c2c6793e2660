using System.CommandLine;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Cli.Commands;

/// <summary><c>mthpsim run FILE...</c>: executes scenarios and reports every failing expectation.</summary>
public static class RunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Func<Stream> stdin)
    {
        var files = ScenarioFilesArgument.Create();
        var json = new Option<bool>("--json") { Description = "Write a machine-readable result (every expectation, every counter's final value) instead of text" };
        var check = new Option<bool>("--check") { Description = "After every statement, run the invariant checker and compare page contents with the record of what the programs stored" };
        var cmd = new Command("run", "Run scenario files; exit 0 when every expectation holds, 1 when some fail, 2 for an invalid file") { files, json, check };
        cmd.SetAction(pr =>
        {
            var results = new List<RunResult>();
            bool asJson = pr.GetValue(json);
            if (InputFile.RefuseStdinTwice("run", pr.GetValue(files)!) is string twice) { stderr.WriteLine(twice); return 2; }
            foreach (var f in pr.GetValue(files)!)
            {
                if (InputFile.ReadScenario(f, stdin, out string error) is not string text)
                {
                    stderr.WriteLine(error);
                    return 2;
                }
                var options = new RunOptions { CheckInvariants = pr.GetValue(check), Output = asJson ? null : stdout };
                var result = ScenarioRunner.RunText(InputFile.Name(f), text, options);
                results.Add(result);
                if (!asJson) ResultReport.WriteText(result, stdout, stderr);
            }
            if (asJson) ResultReport.WriteJson(results, stdout);
            return results.Max(r => r.ExitCode);
        });
        return cmd;
    }
}
