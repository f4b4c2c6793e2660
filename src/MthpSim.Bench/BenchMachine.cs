using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Vma;

namespace MthpSim.Bench;

/// <summary>
/// The machine every simulator pattern runs on (x86_64, 4K pages, 8 GiB: room for a 1 GiB region,
/// a fork of it and the page tables) and the THP settings that make anonymous faults use one size.
/// The same settings are written to the live kernel for the live side of a pattern.
/// </summary>
public static class BenchMachine
{
    public static MachineConfig Config { get; } = new(8L << 30, 4096, CpuArch.X86_64, 0, 1);
    static readonly Geometry Geo = new(Config.PageSize, Config.Arch);

    public static int PmdOrder => Geo.PmdOrder;
    public static long PageSize => Geo.PageSize;

    /// <summary>Order 0 and every anonymous mTHP order of x86_64 up to the PMD order (4K, 16K ... 1M, 2M).</summary>
    public static IReadOnlyList<int> AllSizes { get; } =
        [0, .. Enumerable.Range(1, Geo.PmdOrder).Where(o => (Geo.AnonOrders & (1UL << o)) != 0)];

    /// <summary>A size's label in pattern names: 4K, 64K, 1M, 2M.</summary>
    public static string Label(int order)
    {
        long kb = Geo.SizeOfOrderKb(order);
        return kb >= 1024 && kb % 1024 == 0 ? $"{kb / 1024}M" : $"{kb}K";
    }

    static string SizeDir(int order) => $"hugepages-{Geo.SizeOfOrderKb(order)}kB";

    /// <summary>
    /// Settings under which an anonymous write fault allocates a folio of <paramref name="order"/>:
    /// order 0 with every size never; a sub-PMD size set to always with the top level never (only the
    /// PMD size inherits it, so nothing else is enabled); the PMD size through enabled=always and inherit.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SizeSettings(int order)
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["enabled"] = order == Geo.PmdOrder ? "always" : "never",
        };
        foreach (int o in AllSizes.Where(o => o > 0))
            d[$"{SizeDir(o)}/enabled"] = o != order ? "never" : o == Geo.PmdOrder ? "inherit" : "always";
        return d;
    }

    /// <summary>A fresh machine with the given settings written through its sysfs.</summary>
    public static Kernel Create(IReadOnlyDictionary<string, string>? settings = null)
    {
        var k = new Kernel(Config);
        if (settings != null) Apply(k, settings);
        return k;
    }

    public static void Apply(Kernel k, IReadOnlyDictionary<string, string> settings)
    {
        foreach (var (path, value) in settings)
        {
            long rc = k.SysfsWrite(path, value);
            if (rc != 0) throw new InvalidOperationException($"bench setup: writing {path}={value} failed ({Errno.Name(rc)})");
        }
    }

    /// <summary>Maps an anonymous read-write region (PMD-aligned when its length is a multiple of the PMD size).</summary>
    public static ulong MapRegion(Kernel k, MmStruct mm, long bytes)
    {
        long a = k.Mmap(mm, null, (ulong)bytes, Prot.Read | Prot.Write);
        if (a < 0) throw new InvalidOperationException($"bench setup: mmap of {bytes} bytes failed ({Errno.Name(a)})");
        return (ulong)a;
    }

    /// <summary>Touches [start, start + bytes); throws if the simulated program would have faulted fatally.</summary>
    public static void Touch(Kernel k, MmStruct mm, ulong start, long bytes, bool write)
    {
        long rc = k.Access(mm, start, start + (ulong)bytes, write);
        if (rc != 0) throw new InvalidOperationException($"bench: access at {start:x} failed ({Errno.Name(rc)})");
    }
}
