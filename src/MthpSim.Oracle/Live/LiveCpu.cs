namespace MthpSim.Oracle.Live;

/// <summary>What the live machine's CPU decides about what the kernel shows.</summary>
public static class LiveCpu
{
    /// <summary>
    /// arch_pkeys_enabled() on the live kernel: on x86 the OS enabled protection keys ("ospke" among
    /// the flags of /proc/cpuinfo), and smaps shows a ProtectionKey line per VMA. Some x86 VMs do not
    /// offer PKU (measured: an AMD EPYC Firecracker guest has neither "pku" nor "ospke").
    /// </summary>
    public static bool ProtectionKeys() => ProtectionKeys(File.ReadAllText("/proc/cpuinfo"));

    /// <summary>As above, from the text of /proc/cpuinfo.</summary>
    public static bool ProtectionKeys(string cpuinfo)
    {
        foreach (var line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim() != "flags") continue;
            return line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("ospke");
        }
        return false;
    }
}
