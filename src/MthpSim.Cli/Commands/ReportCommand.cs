using System.CommandLine;
using MthpSim.Report.Html;
using MthpSim.Report.Scenarios;
using MthpSim.Report.Sweeps;
using MthpSim.Scenario.Syntax;
using MthpSim.Sweep.Results;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim report RESULTS|FILE.mthp -o report.html</c>: one self-contained HTML file with charts,
/// of a sweep's results or of one scenario (docs/report.md).
/// </summary>
public static class ReportCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var input = new Argument<string>("INPUT") { Description = "A sweep's results file (JSON lines), or a scenario file (.mthp) to run and report" };
        var output = new Option<string>("-o", "--output") { HelpName = "FILE", Description = "The HTML file to write", Required = true };
        var x = new Option<string?>("--x") { HelpName = "AXIS", Description = "Sweep reports: the axis along the charts' x axis (default: the first whose values are all numbers, else the grid's first)" };
        var y = new Option<string?>("--y") { HelpName = "AXIS", Description = "Sweep reports: the heat maps' other axis (default: the grid's next)" };
        var metrics = new Option<string[]>("--metric") { HelpName = "COUNTER", Description = "Sweep reports: also chart this counter of the results (vmstat/NAME or sysfs/PATH; repeatable)", AllowMultipleArgumentsPerToken = false };
        var policies = new Option<string?>("--policy") { HelpName = "A,B", Description = "Scenario reports: the collapse policies to compare, comma-separated (default: the four designs)" };
        var assemblies = PolicyAssemblyOption.Create();
        var cmd = new Command("report", "Write one self-contained HTML report with charts, of a sweep's results or of a scenario") { input, output, x, y, metrics, policies, assemblies };
        cmd.SetAction(pr =>
        {
            if (PolicyAssemblyOption.Load(pr, assemblies, "report", stderr) == null) return 2;
            string path = pr.GetValue(input)!, outPath = pr.GetValue(output)!;
            if (!File.Exists(path)) { stderr.WriteLine($"mthpsim report: {path}: no such file"); return 2; }
            ReportDocument doc;
            try
            {
                if (path.EndsWith(".mthp", StringComparison.Ordinal))
                {
                    if (SourceText.Decode(path, File.ReadAllBytes(path), out var bad) is not string text) { stderr.WriteLine(bad); return 2; }
                    var list = pr.GetValue(policies)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    foreach (var p in list ?? [])
                        if (MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Create(p) is null)
                        { stderr.WriteLine($"mthpsim report: unknown policy {Echo.Quote(p)}; known policies: {string.Join(", ", MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Names)}"); return 2; }
                    doc = ScenarioReport.Build(path, text, list);
                }
                else
                {
                    var notes = new List<string>();
                    var wanted = pr.GetValue(metrics) ?? [];
                    var results = ResultsFile.Scan(path, notes).Select(s => SweepReport.Slim(s.Result, wanted)).ToList();
                    foreach (var n in notes) stderr.WriteLine($"mthpsim report: {n}");
                    doc = SweepReport.Build(path, results, pr.GetValue(x), pr.GetValue(y), wanted);
                }
            }
            catch (InvalidDataException e) { stderr.WriteLine($"mthpsim report: {Echo.Escape(e.Message)} (a sweep's results file, or a .mthp scenario, is expected)"); return 2; }
            catch (ArgumentException e) { stderr.WriteLine($"mthpsim report: {Echo.Escape(e.Message)}"); return 2; }
            try { File.WriteAllText(outPath, doc.Render()); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { stderr.WriteLine($"mthpsim report: {outPath}: {e.Message}"); return 2; }
            stdout.WriteLine($"report: {outPath} ({doc.Charts} charts)");
            return 0;
        });
        return cmd;
    }
}
