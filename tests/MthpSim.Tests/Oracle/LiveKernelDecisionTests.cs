using System.Reflection;
using Xunit.Sdk;

namespace MthpSim.Tests.Oracle;

/// <summary>The live tests' skip-or-fail decision, on made-up observations: no machine state is read or changed.</summary>
public class LiveKernelDecisionTests
{
    static readonly LiveSysfsFacts Usable = new(ThpSysfsExists: true, EnabledWritable: true, SysMountedReadOnly: false, HasGcc: true);

    static LiveSysfsFacts Throws() => throw new IOException("/proc/self/mounts: Input/output error");

    static LiveSysfsFacts MustNotProbe() => throw new InvalidOperationException("probed although the decision was already made");

    [Fact]
    public void Root_with_a_usable_kernel_runs() => Assert.IsType<LiveDecision.Run>(LiveKernel.Decide(null, true, true, () => Usable));

    [Theory]
    [InlineData("0", true, true, "MTHPSIM_LIVE=0")]
    [InlineData("0", true, false, "MTHPSIM_LIVE=0")]
    [InlineData(null, false, true, "not Linux")]
    [InlineData(null, true, false, "not root")]
    [InlineData("1", true, false, "not root")]
    public void Documented_reasons_skip_before_anything_is_read(string? env, bool linux, bool root, string reason)
    {
        var d = Assert.IsType<LiveDecision.Skip>(LiveKernel.Decide(env, linux, root, MustNotProbe));
        Assert.StartsWith(reason, d.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MTHPSIM_LIVE_0_skips_even_where_the_probe_would_throw() =>
        Assert.IsType<LiveDecision.Skip>(LiveKernel.Decide("0", true, true, Throws));

    [Fact]
    public void A_probe_that_throws_as_root_is_a_failure_carrying_the_exception()
    {
        var d = Assert.IsType<LiveDecision.Fail>(LiveKernel.Decide(null, true, true, Throws));
        Assert.IsType<IOException>(d.Error);
        Assert.Contains("/proc/self/mounts: Input/output error", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_probe_that_throws_without_root_is_never_reached() =>
        Assert.Equal("not root", Assert.IsType<LiveDecision.Skip>(LiveKernel.Decide(null, true, false, Throws)).Reason);

    public static TheoryData<LiveSysfsFacts, string> Unusable() => new()
    {
        { Usable with { ThpSysfsExists = false, EnabledWritable = false }, "no THP sysfs" },
        { Usable with { EnabledWritable = false }, "THP sysfs not writable (/sys/kernel/mm/transparent_hugepage/enabled" },
        { Usable with { SysMountedReadOnly = true }, "THP sysfs not writable (/sys is mounted read-only)" },
        { Usable with { HasGcc = false }, "no gcc" },
    };

    [Theory]
    [MemberData(nameof(Unusable))]
    public void Root_without_a_usable_kernel_skips_with_the_reason(LiveSysfsFacts facts, string reason) =>
        Assert.StartsWith(reason, Assert.IsType<LiveDecision.Skip>(LiveKernel.Decide(null, true, true, () => facts)).Reason, StringComparison.Ordinal);

    /// <summary>xunit finds a discoverer by name: a misspelt one would drop the live tests from discovery without a word.</summary>
    [Theory]
    [InlineData(typeof(LiveKernelFactAttribute), typeof(LiveKernelFactDiscoverer))]
    [InlineData(typeof(LiveKernelTheoryAttribute), typeof(LiveKernelTheoryDiscoverer))]
    [InlineData(typeof(ThpmapsToolTheoryAttribute), typeof(LiveKernelTheoryDiscoverer))]
    public void The_live_attributes_name_their_discoverers(Type attribute, Type discoverer)
    {
        var data = attribute.GetCustomAttributesData().Single(a => a.AttributeType == typeof(XunitTestCaseDiscovererAttribute));
        var (typeName, assemblyName) = ((string)data.ConstructorArguments[0].Value!, (string)data.ConstructorArguments[1].Value!);
        Assert.Equal(discoverer, Assembly.Load(assemblyName).GetType(typeName, throwOnError: true));
        Assert.True(typeof(IXunitTestCaseDiscoverer).IsAssignableFrom(discoverer));
    }
}
