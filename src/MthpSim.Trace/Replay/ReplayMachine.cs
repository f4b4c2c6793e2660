using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Khugepaged.Policies;
using MthpSim.Trace.Format;

namespace MthpSim.Trace.Replay;

/// <summary>
/// The simulated machine a replay runs on: the trace's architecture and page size, the THP settings
/// it was recorded under (header keys <c>thp.PATH</c>), then the user's <c>--set</c> overrides and
/// collapse policy. Khugepaged's scan sleep and the other settings keep the kernel's defaults unless set.
/// </summary>
public static class ReplayMachine
{
    /// <param name="setsFrom">Who gave <paramref name="sets"/>, for the error that refuses one.</param>
    public static Kernel Create(TraceHeader header, IEnumerable<KeyValuePair<string, string>> sets, string? policy, long memoryBytes, string setsFrom = "--set")
    {
        var arch = header.Arch switch
        {
            "x86_64" => CpuArch.X86_64,
            "arm64" or "aarch64" => CpuArch.Arm64,
            _ => throw new ReplayException($"the trace was recorded on {header.Arch}, which the model does not have (x86_64, arm64)"),
        };
        if (header.PageSize is not (4096 or 16384 or 65536)) throw new ReplayException($"the trace's page size {header.PageSize} is not 4K, 16K or 64K");
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = memoryBytes, PageSize = header.PageSize, Arch = arch });
        foreach (var (key, value) in header.Properties)
            if (key.StartsWith("thp.", StringComparison.Ordinal) && k.SysfsRead(key[4..]) != null) Write(k, key[4..], value, "the trace's header");
        foreach (var (path, value) in sets) Write(k, path, value, setsFrom);
        if (policy != null)
            k.CollapsePolicy = CollapsePolicies.Create(policy)
                ?? throw new ReplayException($"unknown policy '{policy}'; known policies: {string.Join(", ", CollapsePolicies.Names)}");
        // The recorded program did not run alone: khugepaged had other mms and was asleep.
        k.KhugepagedBusyElsewhere();
        return k;
    }

    static void Write(Kernel k, string path, string value, string from)
    {
        if (k.SysfsRead(path) == null) throw new ReplayException($"{from}: no setting '{path}' under /sys/kernel/mm/transparent_hugepage");
        long rc = k.SysfsWrite(path, value);
        if (rc < 0) throw new ReplayException($"{from}: writing '{value}' to {path} failed with {Errno.Name(rc)}");
    }
}
