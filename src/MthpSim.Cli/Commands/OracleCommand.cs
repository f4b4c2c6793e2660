using System.CommandLine;
using MthpSim.Oracle.Compare;
using Echo = MthpSim.Scenario.Syntax.Echo;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim oracle FILE...</c>: runs each scenario on the live kernel and in the simulator and
/// compares every expectation. Exit 0 when both sides satisfy every expectation with the same value,
/// 1 on any disagreement or failure, 2 for an invalid file, 3 when the live kernel cannot be used.
/// </summary>
public static class OracleCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Func<Stream> stdin)
    {
        var files = ScenarioFilesArgument.Create();
        var record = new Option<FileInfo?>("--record") { Description = "Also write what the live kernel observed to this JSON file" };
        var replay = new Option<FileInfo?>("--replay") { Description = "Compare the simulator with a recorded live run instead of the live kernel" };
        var cmd = new Command("oracle", "Run scenarios on the live kernel and in the simulator, and compare") { files, record, replay };
        cmd.Subcommands.Add(OracleFuzzCommand.Create(stdout, stderr));
        cmd.Subcommands.Add(OracleFragmentationCommand.Create(stdout, stderr));
        // A signal during a run is the oracle's own handler's (it restores the settings and the run
        // returns interrupted); between files it ends the process, with nothing changed. The token never fires.
        cmd.SetAction((pr, cancel) => Task.FromResult(Run(pr, cancel)));
        return cmd;

        int Run(ParseResult pr, CancellationToken cancel)
        {
            var results = new List<OracleResult>();
            var replayFile = pr.GetValue(replay);
            List<OracleReport.Record>? recorded = null;
            if (replayFile != null)
            {
                if (InputFile.Read(replayFile, out string replayError) is not string json) { stderr.WriteLine(replayError); return 2; }
                try { recorded = OracleReport.FromJson(json); }
                catch (System.Text.Json.JsonException e)
                {
                    stderr.WriteLine($"mthpsim: cannot read {replayFile}: not a recorded oracle run ({e.Message.ReplaceLineEndings(" ")})");
                    return 2;
                }
            }
            if (InputFile.RefuseStdinTwice("oracle", pr.GetValue(files)!) is string twice) { stderr.WriteLine(twice); return 2; }
            foreach (var f in pr.GetValue(files)!)
            {
                if (cancel.IsCancellationRequested) return MthpSim.Oracle.Settings.SettingsGuard.ExitStatus(System.Runtime.InteropServices.PosixSignal.SIGINT);
                if (InputFile.ReadScenario(f, stdin, out string error) is not string text) { stderr.WriteLine(error); return 2; }
                string name = InputFile.Name(f);
                OracleResult r;
                if (recorded != null)
                {
                    var rec = recorded.FirstOrDefault(x => x.File == name || Path.GetFileName(x.File) == f.Name);
                    if (rec == null) { stderr.WriteLine($"mthpsim: {Echo.Escape(name)}: not in {Echo.Escape(replayFile!.Name)}"); return 2; }
                    r = OracleRunner.Replay(name, text, rec);
                }
                else
                {
                    r = OracleRunner.Run(name, text);
                }
                results.Add(r);
                stdout.Write(OracleReport.Text(r));
                if (r.InterruptedStatus is int status) return status;
                if (r.Unavailable != null) stderr.WriteLine($"mthpsim oracle: live kernel unavailable: {r.Unavailable}");
            }
            if (pr.GetValue(record) is FileInfo recordFile)
                File.WriteAllText(recordFile.FullName, OracleReport.ToJson(results.Where(r => r.Unavailable == null && r.Invalid.Count == 0).Select(OracleReport.ToRecord)));
            if (results.Any(r => r.ExitCode == 2)) return 2;
            if (results.Any(r => r.ExitCode == 1)) return 1;
            return results.Any(r => r.ExitCode == 3) ? 3 : 0;
        }
    }
}
