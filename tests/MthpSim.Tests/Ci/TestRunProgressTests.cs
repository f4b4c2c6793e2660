using System.Text.Json;

namespace MthpSim.Tests.Ci;

/// <summary>
/// `dotnet test` says what it is doing as it goes: xunit, configured by the xunit.runner.json copied
/// next to this assembly, prints its diagnostic messages and a line every few seconds for each test
/// still running (the oracle suite and the fuzz tests run for a minute or more each).
/// </summary>
public class TestRunProgressTests
{
    [Fact]
    public void The_runner_reports_long_running_tests_every_few_seconds()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "xunit.runner.json");
        Assert.True(File.Exists(path), $"{path} is missing: dotnet test would print nothing while the long tests run");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.True(doc.RootElement.GetProperty("diagnosticMessages").GetBoolean());
        Assert.InRange(doc.RootElement.GetProperty("longRunningTestSeconds").GetInt32(), 1, 30);
    }
}
