using System.Text.RegularExpressions;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Tests.Scenarios;

/// <summary>
/// Every scenario file in the repository is a test: valid ones must pass every expect with the
/// invariant checker run after each statement; files under tests/scenarios/invalid/ must be refused
/// (exit 2) with the error their "# error: LINE:COL: text" comment names. The oracle's scenarios
/// (tests/oracle/) are in <see cref="OracleScenarioFileTests"/>, a class of its own so that the two
/// halves run on two processors at once.
/// </summary>
public class ScenarioFileTests
{
    public static TheoryData<string> ValidScenarios() => Valid(f => !f.StartsWith("tests/oracle/", StringComparison.Ordinal));

    /// <summary>The valid scenario files under tests/ and scenarios/ that <paramref name="include"/> takes.</summary>
    internal static TheoryData<string> Valid(Func<string, bool> include)
    {
        var data = new TheoryData<string>();
        foreach (var f in RepoPaths.ScenarioFiles("tests", "scenarios").Where(f => !f.Contains("/invalid/") && !f.Contains("/failing/") && !f.Contains("/pending/") && include(f))) data.Add(f);
        return data;
    }

    public static TheoryData<string> InvalidScenarios()
    {
        var data = new TheoryData<string>();
        foreach (var f in RepoPaths.ScenarioFiles("tests/scenarios/invalid")) data.Add(f);
        return data;
    }

    [Theory]
    [MemberData(nameof(ValidScenarios))]
    public void Scenario_passes_with_invariants_checked(string file) => PassesWithInvariantsChecked(file);

    internal static void PassesWithInvariantsChecked(string file)
    {
        var result = ScenarioRunner.RunFile(Path.Combine(RepoPaths.Root, file), new RunOptions { CheckInvariants = true });
        var report = string.Join("\n", result.Invalid.Select(d => d.ToString())
            .Concat(result.Failures.Select(f => f.Describe()))
            .Append(result.Aborted ?? ""));
        // The real error first: a file that is invalid or stops early also has no expect evaluated.
        Assert.True(result.Passed, report);
        Assert.True(result.Expectations.Count > 0, $"{file} has no expect: a scenario test must check something");
    }

    [Theory]
    [MemberData(nameof(InvalidScenarios))]
    public void Invalid_scenario_is_refused_with_its_location(string file)
    {
        string path = Path.Combine(RepoPaths.Root, file);
        var declared = Regex.Match(File.ReadAllText(path), @"#\s*error:\s*(\d+):(\d+):\s*(.+)");
        Assert.True(declared.Success, $"{file} must declare the expected error as '# error: LINE:COL: text'");
        var result = ScenarioRunner.RunFile(path, new RunOptions());
        Assert.Equal(2, result.ExitCode);
        int line = int.Parse(declared.Groups[1].Value), col = int.Parse(declared.Groups[2].Value);
        string text = declared.Groups[3].Value.Trim();
        Assert.Contains(result.Invalid, d => d.Line == line && d.Column == col && d.Message.Contains(text, StringComparison.Ordinal));
    }
}
