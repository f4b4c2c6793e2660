using MthpSim.Oracle.Settings;

namespace MthpSim.Tests.Oracle;

/// <summary>Whether this machine's kernel can be driven: root, THP sysfs present and writable, gcc.</summary>
public static class LiveKernel
{
    public static string? WhyNot { get; } = Probe();

    /// <summary>Reads only: a skip check must not touch machine-wide settings (a write, even of the same value, wakes khugepaged).</summary>
    static string? Probe()
    {
        if (Environment.GetEnvironmentVariable("MTHPSIM_LIVE") == "0") return "MTHPSIM_LIVE=0";
        if (!OperatingSystem.IsLinux()) return "not Linux";
        if (!Environment.IsPrivilegedProcess) return "not root";
        string enabled = Path.Combine(LiveSettings.Root, "enabled");
        if (!File.Exists(enabled)) return "no THP sysfs";
        if ((File.GetUnixFileMode(enabled) & UnixFileMode.UserWrite) == 0) return "THP sysfs not writable (" + enabled + " has no write permission)";
        if (IsReadOnlyMount("/sys")) return "THP sysfs not writable (/sys is mounted read-only)";
        if (!new[] { "/usr/bin/gcc", "/usr/local/bin/gcc", "/bin/gcc" }.Any(File.Exists)) return "no gcc to build the live driver";
        return null;
    }

    /// <summary>Whether the mount at <paramref name="mountPoint"/> is read-only (/proc/self/mounts options).</summary>
    static bool IsReadOnlyMount(string mountPoint) =>
        File.ReadLines("/proc/self/mounts").Select(l => l.Split(' ')).Any(f => f.Length > 3 && f[1] == mountPoint && f[3].Split(',').Contains("ro"));
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
