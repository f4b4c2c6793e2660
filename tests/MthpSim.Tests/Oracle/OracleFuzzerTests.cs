using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Oracle.Fuzz;

namespace MthpSim.Tests.Oracle;

/// <summary>The parts of `mthpsim oracle fuzz` that need no live kernel: its rules and its summary rows.</summary>
public class OracleFuzzerTests
{
    static Kernel NewKernel() => new(MachineConfig.Default);

    [Fact]
    public void A_size_that_is_ever_always_is_not_private()
    {
        string[] lines =
        [
            "machine memory=4G",
            "sysfs hugepages-64kB/enabled = always",
            "sysfs hugepages-64kB/enabled = never",
            "sysfs hugepages-32kB/enabled = inherit",   // inherits "always" (the starting global setting)
            "sysfs hugepages-16kB/enabled = madvise",
            "sysfs enabled = never",
            "sysfs hugepages-128kB/enabled = inherit",   // inherits "never" now
        ];
        var sizes = OracleFuzzer.PrivateSizes(NewKernel(), lines).ToList();
        // 2048kB inherits the starting "always"; 64kB and 32kB were "always" for a while.
        Assert.Equal(new long[] { 16, 128, 256, 512, 1024 }, sizes);
    }

    /// <summary>
    /// A live kernel whose disagreement needs statements "a" and "b", and whose first run of any
    /// scenario with "a" disagrees by chance: the shrink keeps only what two runs in a row confirm.
    /// </summary>
    [Fact]
    public void A_shrink_step_live_noise_showed_once_is_not_kept()
    {
        List<string> body = ["x1", "a", "x2", "b", "x3"];
        Func<List<string>, bool> Live()
        {
            var seen = new HashSet<string>();
            return c => c.Contains("a") && (c.Contains("b") || seen.Add(string.Join('\n', c)));
        }
        Assert.DoesNotContain("b", MthpSim.Scenario.Fuzz.Fuzzer.Minimize(body, Live()));   // one run a step: led astray
        Assert.Equal(["a", "b"], OracleFuzzer.ShrinkConfirmed(body, Live()));
    }

    [Theory]
    [InlineData("p1 smaps r0 Rss", "smaps Rss")]
    [InlineData("p1 thpmaps r0 anon-thp-pte-aligned-64kB", "thpmaps")]
    [InlineData("p1 folio r0 4096 order", "folio order")]
    [InlineData("p1 intact r0", "intact")]
    [InlineData("sysfs hugepages-64kB/stats/nr_anon", "stats nr_anon")]
    [InlineData("file f0 folio 64K kind", "file folio kind")]
    [InlineData("file f0 blocks", "file blocks")]
    public void Each_observable_counts_under_its_kind(string observable, string kind) => Assert.Equal(kind, OracleFuzzer.KindOf(observable));
}
