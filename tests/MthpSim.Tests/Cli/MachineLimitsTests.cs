using MthpSim.Core;
using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

/// <summary>
/// A machine the model cannot run is refused before anything runs: a swap device of a kind not
/// modelled yet (only zram is), a swap size mkswap or a swap entry could not hold, and more memory
/// than this host could hold.
/// </summary>
public class MachineLimitsTests
{
    static (int code, string stdout, string stderr) RunText(string text) => Run("run", Temp(text));

    [Fact]
    public void Run_accepts_every_swap_device_and_refuses_the_sizes_it_cannot_model()
    {
        // The header takes one page of the device (SwapTotal is what swapon reports).
        foreach (var dev in new[] { "", " swapdev=zram", " swapdev=disk", " swapdev=file" })
        {
            var (ok, _, err) = RunText($"machine swap=1G{dev}\nexpect meminfo SwapTotal == 1048572\nexpect meminfo SwapFree == 1048572\n");
            Assert.Equal(0, ok);
            Assert.Equal("", err);
        }
        var (code, _, stderr) = RunText("machine swap=36K\n");
        Assert.Equal(2, code);
        Assert.Contains("swap=36K must be from 40K to 256G", stderr);
        // A shmem page cache's swap entry holds a 26-bit slot offset: larger devices are refused up front.
        (code, _, stderr) = RunText("machine swap=257G\n");
        Assert.Equal(2, code);
        Assert.Contains("swap=257G must be from 40K to 256G", stderr);
        Assert.Equal(0, RunText("machine swap=256G\n").Item1);
    }

    [Fact]
    public void Run_accepts_swap_0()
    {
        var (code, _, stderr) = RunText("machine swap=0\nexpect meminfo SwapTotal == 0\n");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void Memory_beyond_what_the_host_can_hold_is_refused_up_front_with_the_range()
    {
        // Issue 10: memory=1T was accepted and writing it all ended in OutOfMemoryException.
        long tooMuch = (Kernel.MaxSimulatedPages() + 1) * 4096;
        var (code, stdout, stderr) = RunText($"machine memory={(tooMuch >> 30) + 1}G\nprocess p\n");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Matches(@":1:1: error: memory=\d+[GT] is outside what this host can simulate: from 2M to \d+[GT] with 4K pages \(\d+G of host memory, up to 40 bytes of it per simulated page\)", stderr);
        Assert.DoesNotContain("Exception", stderr);
    }

    [Fact]
    public void Memory_the_host_can_hold_is_accepted()
    {
        long most = Kernel.MaxSimulatedPages() * 4096 >> 30 << 30;
        var (code, _, stderr) = RunText($"machine memory={most >> 30}G\nprocess p\np mmap a any 4M\np write a 0 4M\nexpect p smaps a Rss == 4M\n");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
    }
}
