using System.Text.Json;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary>Writes run results for people (text) or for programs (JSON, docs/schemas/run.schema.json).</summary>
public static class ResultReport
{
    public static void WriteText(RunResult r, TextWriter stdout, TextWriter stderr)
    {
        foreach (var d in r.Invalid) stderr.WriteLine(d);
        if (r.Invalid.Count > 0) return;
        foreach (var f in r.Failures) stdout.WriteLine(f.Describe());
        if (r.Aborted != null) stdout.WriteLine(r.Aborted);
        int failed = r.Failures.Count();
        if (r.Interrupted)
        {
            stdout.WriteLine($"INTERRUPTED {r.File}: after {r.StatementsRun} of {r.Statements} statements, {r.Expectations.Count - failed} of {r.Expectations.Count} expectations so far hold");
            return;
        }
        string verdict = r.Aborted != null ? "ABORTED" : failed == 0 ? "PASS" : "FAIL";
        stdout.WriteLine($"{verdict} {r.File}: {r.Expectations.Count - failed} of {r.Expectations.Count} expectations hold");
    }

    /// <summary>Keys are camelCase, as in every command's JSON.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void WriteJson(IReadOnlyList<RunResult> results, TextWriter stdout, bool interrupted = false)
    {
        var files = results.Select(r => new
        {
            file = r.File,
            exitCode = r.ExitCode,
            passed = r.Passed,
            interrupted = r.Interrupted,
            statementsRun = r.StatementsRun,
            statements = r.Statements,
            invalid = r.Invalid.Select(d => new { line = d.Line, column = d.Column, message = d.Message }),
            aborted = r.Aborted,
            expectations = r.Expectations.Select(e => new
            {
                line = e.Span.Line, column = e.Span.Column, statement = e.Statement, observable = e.Observable,
                op = e.Op, expected = e.Expected, observed = e.Observed, passed = e.Passed,
            }),
            prints = r.Prints.Select(p => new { line = p.Line, text = p.Text }),
            counters = r.Counters,
        });
        stdout.WriteLine(JsonSerializer.Serialize(new { interrupted, files }, JsonOptions));
    }

    /// <summary>A file that could not be read: invalid (exit 2), with the reason as its one error, at line 0.</summary>
    public static RunResult Unreadable(string file, string error)
    {
        var r = new RunResult { File = file };
        r.Invalid.Add(new Diagnostic(file, 0, 0, error));
        return r;
    }

    /// <summary>A run the simulator failed with an exception: aborted (exit 1), saying so.</summary>
    public static RunResult Crashed(string file, Exception e) =>
        new() { File = file, Aborted = $"{file}: internal error: {e.GetType().Name}: {e.Message}" };

    /// <summary>One line for standard error when a signal stopped a run: what finished, what did not.</summary>
    public static string InterruptedSummary(IReadOnlyList<RunResult> results, int files)
    {
        var finished = results.Where(r => !r.Interrupted).ToList();
        int passed = finished.Count(r => r.ExitCode == 0), failed = finished.Count(r => r.ExitCode == 1), invalid = finished.Count(r => r.ExitCode == 2);
        string line = $"interrupted: {finished.Count} of {files} files run, {passed} passed, {failed} failed";
        if (invalid > 0) line += $", {invalid} invalid";
        if (results.FirstOrDefault(r => r.Interrupted) is { } stopped)
            line += $"; {stopped.File} stopped after {stopped.StatementsRun} of {stopped.Statements} statements";
        return line + $"; {files - results.Count} not run";
    }
}
