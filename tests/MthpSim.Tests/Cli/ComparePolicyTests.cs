using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

/// <summary>compare refuses a policy list that names nothing or an unknown design, and fails when an expectation does.</summary>
public class ComparePolicyTests
{
    [Theory]
    [InlineData("")]
    [InlineData(" , ")]
    public void Compare_refuses_an_empty_policy_list(string list)
    {
        var (code, stdout, stderr) = Run("compare", Temp("expect rc == 0\n"), "--policy", list);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        // StartsWith: another test may register one more design while this runs.
        Assert.StartsWith("mthpsim compare: --policy names no policy; known policies: pmd-only, mthp, mthp-bitmap-rfc, mthp-per-order-rfc", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Compare_refuses_an_unknown_policy_and_lists_the_known_ones()
    {
        var (code, stdout, stderr) = Run("compare", Temp("expect rc == 0\n"), "--policy", "mthp,nope");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("mthpsim compare: unknown policy 'nope'; known policies: pmd-only, mthp,", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Compare_exits_1_and_names_the_policy_when_an_expectation_fails()
    {
        string f = Temp("expect vmstat thp_fault_alloc == 1\n");
        var (code, stdout, stderr) = Run("compare", f, "--policy", "pmd-only,mthp");
        Assert.Equal(1, code);
        Assert.Contains("(0/1)", stdout);
        Assert.Contains($"mthpsim compare: {f} under pmd-only: 1 of 1 expectations failed", stderr);
        Assert.Contains($"mthpsim compare: {f} under mthp: 1 of 1 expectations failed", stderr);
    }

    [Fact]
    public void Compare_exits_0_when_every_expectation_holds()
    {
        var (code, _, stderr) = Run("compare", Temp("expect vmstat thp_fault_alloc == 0\n"), "--policy", "mthp");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void Compare_refuses_json_and_csv_together()
    {
        var (code, stdout, stderr) = Run("compare", "--json", "--csv", Path.Combine(MthpSim.Tests.Scenarios.RepoPaths.Root, "scenarios/examples/fault-64k.mthp"));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("mthpsim compare: --json and --csv cannot be used together", stderr.Trim());
    }
}
