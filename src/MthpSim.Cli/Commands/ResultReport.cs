using System.Text.Json;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Cli.Commands;

/// <summary>Writes run results for people (text) or for programs (JSON).</summary>
public static class ResultReport
{
    public static void WriteText(RunResult r, TextWriter stdout, TextWriter stderr)
    {
        foreach (var d in r.Invalid) stderr.WriteLine(d);
        if (r.Invalid.Count > 0) return;
        foreach (var f in r.Failures) stdout.WriteLine(f.Describe());
        if (r.Aborted != null) stdout.WriteLine(r.Aborted);
        int failed = r.Failures.Count();
        string verdict = r.Aborted != null ? "ABORTED" : failed == 0 ? "PASS" : "FAIL";
        stdout.WriteLine($"{verdict} {r.File}: {r.Expectations.Count - failed} of {r.Expectations.Count} expectations hold");
    }

    public static void WriteJson(IReadOnlyList<RunResult> results, TextWriter stdout)
    {
        var doc = results.Select(r => new
        {
            file = r.File,
            exitCode = r.ExitCode,
            passed = r.Passed,
            invalid = r.Invalid.Select(d => new { line = d.Line, column = d.Column, message = d.Message }),
            aborted = r.Aborted,
            expectations = r.Expectations.Select(e => new
            {
                line = e.Span.Line, column = e.Span.Column, statement = e.Statement, observable = e.Observable,
                op = e.Op, expected = e.Expected, observed = e.Observed, passed = e.Passed,
            }),
            counters = r.Counters,
        });
        stdout.WriteLine(JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
    }
}
