using MthpSim.Oracle.Settings;

namespace MthpSim.Tests.Oracle;

/// <summary>Whether this machine's kernel can be driven: root, THP sysfs present and writable, gcc.</summary>
public static class LiveKernel
{
    public static string? WhyNot { get; } = Probe();

    static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        if (!Environment.IsPrivilegedProcess) return "not root";
        if (!File.Exists(Path.Combine(LiveSettings.Root, "enabled"))) return "no THP sysfs";
        try
        {
            var s = new LiveSettings();
            if (s.Write("enabled", s.Read("enabled")) is string err) return "THP sysfs not writable: " + err;
        }
        catch (Exception e) { return e.Message; }
        if (!new[] { "/usr/bin/gcc", "/usr/local/bin/gcc", "/bin/gcc" }.Any(File.Exists)) return "no gcc to build the live driver";
        return null;
    }
}

/// <summary>A fact that needs the live kernel; reported as skipped (never passed) without one.</summary>
public sealed class LiveKernelFactAttribute : FactAttribute
{
    public LiveKernelFactAttribute() { if (LiveKernel.WhyNot is string why) Skip = "live kernel unavailable: " + why; }
}

/// <summary>A theory that needs the live kernel; reported as skipped (never passed) without one.</summary>
public sealed class LiveKernelTheoryAttribute : TheoryAttribute
{
    public LiveKernelTheoryAttribute() { if (LiveKernel.WhyNot is string why) Skip = "live kernel unavailable: " + why; }
}

/// <summary>THP settings are global to the machine: tests that change them never run in parallel.</summary>
[CollectionDefinition("live kernel", DisableParallelization = true)]
public sealed class LiveKernelCollection;
