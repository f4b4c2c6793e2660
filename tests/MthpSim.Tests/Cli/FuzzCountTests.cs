using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

/// <summary>fuzz refuses counts that would print PASS for nothing or never end.</summary>
public class FuzzCountTests
{
    [Theory]
    [InlineData("--ops", "-5")]
    [InlineData("--ops", "0")]
    [InlineData("--episode-ops", "0")]
    [InlineData("--episode-ops", "-1")]
    public void Fuzz_refuses_a_non_positive_count(string option, string value)
    {
        string[] args = option == "--ops" ? ["fuzz", "--ops", value] : ["fuzz", "--ops", "10", option, value];
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"mthpsim fuzz: {option} must be a positive number, got {value}\n", stderr.Replace("\r", ""));
    }

    [Fact]
    public void Fuzz_refuses_a_negative_job_count()
    {
        var (code, _, stderr) = Run("fuzz", "--ops", "10", "--jobs", "-1");
        Assert.Equal(2, code);
        Assert.Contains("--jobs must be 0 or more, got -1", stderr);
    }
}
