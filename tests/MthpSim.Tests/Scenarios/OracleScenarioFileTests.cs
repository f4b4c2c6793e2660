namespace MthpSim.Tests.Scenarios;

/// <summary>
/// The oracle's scenarios (tests/oracle/), run in the simulator as every scenario file is: every
/// expect holds with the invariant checker run after each statement. OracleLiveTests runs them on
/// the live kernel too.
/// </summary>
public class OracleScenarioFileTests
{
    public static TheoryData<string> ValidScenarios() => ScenarioFileTests.Valid(f => f.StartsWith("tests/oracle/", StringComparison.Ordinal));

    [Theory]
    [MemberData(nameof(ValidScenarios))]
    public void Scenario_passes_with_invariants_checked(string file) => ScenarioFileTests.PassesWithInvariantsChecked(file);
}
