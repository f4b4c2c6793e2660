using MthpSim.Oracle.Settings;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace MthpSim.Tests.Oracle;

/// <summary>What the probe finds on disk once it knows it runs as root.</summary>
public readonly record struct LiveSysfsFacts(bool ThpSysfsExists, bool EnabledWritable, bool SysMountedReadOnly, bool HasGcc);

/// <summary>Whether the live tests run, are skipped (a documented reason), or fail (the probe itself broke).</summary>
public abstract record LiveDecision
{
    public sealed record Run : LiveDecision;
    public sealed record Skip(string Reason) : LiveDecision;
    public sealed record Fail(Exception Error) : LiveDecision
    {
        public string Message => "the live-kernel check failed as root, which is no documented reason to skip (README, The live-kernel oracle): " + Error;
    }
}

/// <summary>Whether this machine's kernel can be driven: root, THP sysfs present and writable, gcc.</summary>
public static class LiveKernel
{
    public static LiveDecision Decision { get; } = Decide(
        Environment.GetEnvironmentVariable("MTHPSIM_LIVE"), OperatingSystem.IsLinux(), Environment.IsPrivilegedProcess, ProbeSysfs);

    /// <summary>
    /// Skips only for what README documents (MTHPSIM_LIVE=0, not root, THP sysfs missing or read-only,
    /// no gcc); as root, a probe that throws is a failure, never a skip, so a broken check cannot
    /// pass off the live suite as unavailable. <paramref name="probe"/> runs only as root.
    /// </summary>
    public static LiveDecision Decide(string? liveEnv, bool isLinux, bool isRoot, Func<LiveSysfsFacts> probe)
    {
        if (liveEnv == "0") return new LiveDecision.Skip("MTHPSIM_LIVE=0");
        if (!isLinux) return new LiveDecision.Skip("not Linux (no THP sysfs)");
        if (!isRoot) return new LiveDecision.Skip("not root");
        LiveSysfsFacts f;
        try { f = probe(); }
        catch (Exception e) { return new LiveDecision.Fail(e); }
        if (!f.ThpSysfsExists) return new LiveDecision.Skip("no THP sysfs (" + LiveSettings.Root + ")");
        if (!f.EnabledWritable) return new LiveDecision.Skip("THP sysfs not writable (" + LiveSettings.Root + "/enabled has no write permission)");
        if (f.SysMountedReadOnly) return new LiveDecision.Skip("THP sysfs not writable (/sys is mounted read-only)");
        if (!f.HasGcc) return new LiveDecision.Skip("no gcc to build the live driver");
        return new LiveDecision.Run();
    }

    /// <summary>Reads only: a skip check must not touch machine-wide settings (a write, even of the same value, wakes khugepaged).</summary>
    static LiveSysfsFacts ProbeSysfs()
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();   // Decide() asks only on Linux
        string enabled = Path.Combine(LiveSettings.Root, "enabled");
        if (!File.Exists(enabled)) return new(false, false, false, false);
        return new(true, (File.GetUnixFileMode(enabled) & UnixFileMode.UserWrite) != 0, IsReadOnlyMount("/sys"),
            new[] { "/usr/bin/gcc", "/usr/local/bin/gcc", "/bin/gcc" }.Any(File.Exists));
    }

    /// <summary>Whether the mount at <paramref name="mountPoint"/> is read-only (/proc/self/mounts options).</summary>
    static bool IsReadOnlyMount(string mountPoint) =>
        File.ReadLines("/proc/self/mounts").Select(l => l.Split(' ')).Any(f => f.Length > 3 && f[1] == mountPoint && f[3].Split(',').Contains("ro"));

    /// <summary>The skip text for a test attribute, or null (run, or fail through <see cref="LiveKernelFactDiscoverer"/>).</summary>
    public static string? SkipReason => Decision is LiveDecision.Skip s ? "live kernel unavailable: " + s.Reason : null;
}

/// <summary>A fact that needs the live kernel; reported as skipped (never passed) without one, as failed when the check broke.</summary>
[XunitTestCaseDiscoverer("MthpSim.Tests.Oracle.LiveKernelFactDiscoverer", "MthpSim.Tests")]
public sealed class LiveKernelFactAttribute : FactAttribute
{
    public LiveKernelFactAttribute() => Skip = LiveKernel.SkipReason;
}

/// <summary>A theory that needs the live kernel; reported as skipped (never passed) without one, as failed when the check broke.</summary>
[XunitTestCaseDiscoverer("MthpSim.Tests.Oracle.LiveKernelTheoryDiscoverer", "MthpSim.Tests")]
public sealed class LiveKernelTheoryAttribute : TheoryAttribute
{
    public LiveKernelTheoryAttribute() => Skip = LiveKernel.SkipReason;
}

/// <summary>An attribute cannot fail a test, and a throwing one would make xunit drop the test from discovery: the discoverer reports the broken check as the test's failure.</summary>
public sealed class LiveKernelFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        LiveKernel.Decision is LiveDecision.Fail f
            ? [new ExecutionErrorTestCase(DiagnosticMessageSink, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), testMethod, f.Message)]
            : base.Discover(options, testMethod, factAttribute);
}

/// <summary>The theory form of <see cref="LiveKernelFactDiscoverer"/>.</summary>
public sealed class LiveKernelTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod testMethod, IAttributeInfo theoryAttribute) =>
        LiveKernel.Decision is LiveDecision.Fail f
            ? [new ExecutionErrorTestCase(DiagnosticMessageSink, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), testMethod, f.Message)]
            : base.Discover(options, testMethod, theoryAttribute);
}

/// <summary>THP settings are global to the machine: tests that change them never run in parallel.</summary>
[CollectionDefinition("live kernel", DisableParallelization = true)]
public sealed class LiveKernelCollection;
