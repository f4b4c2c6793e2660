namespace MthpSim.Tests.Cli;

/// <summary>A swap size is refused until swap is modelled; swap=0 (the default) stays accepted.</summary>
public class MachineSwapTests
{
    static (int code, string stdout, string stderr) Run(string text)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.mthp");
        File.WriteAllText(path, text);
        var o = new StringWriter();
        var e = new StringWriter();
        int code = MthpSim.Cli.Program.Run(["run", path], o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Run_refuses_a_non_zero_swap_size()
    {
        var (code, _, stderr) = Run("machine swap=1G\nexpect meminfo SwapTotal == 1G\n");
        Assert.Equal(2, code);
        Assert.Contains(":1:1: error: machine swap=SIZE is not supported yet", stderr);
    }

    [Fact]
    public void Run_accepts_swap_0()
    {
        var (code, _, stderr) = Run("machine swap=0\nexpect meminfo SwapTotal == 0\n");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
    }
}
