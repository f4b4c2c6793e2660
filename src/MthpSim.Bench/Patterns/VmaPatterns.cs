using MthpSim.Core;
using MthpSim.Core.Vma;

namespace MthpSim.Bench.Patterns;

/// <summary>
/// <c>vma-*</c>: 100,000 one-page mmaps in one process, and lookups and munmaps among them. Neighbours
/// alternate between read-only and read-write so that no two merge: every mmap makes a VMA.
/// </summary>
internal static class VmaPatterns
{
    static Prot ProtOf(int i) => i % 2 == 0 ? Prot.Read : Prot.Read | Prot.Write;

    public static IEnumerable<BenchPattern> All(BenchScale scale)
    {
        int n = scale.VmaCount;
        string count = n >= 1000 && n % 1000 == 0 ? $"{n / 1000}k" : $"{n}";
        yield return new BenchPattern
        {
            Name = $"vma-mmap-{count}",
            Family = "vma",
            Unit = "op",
            Description = $"{n} mmaps of 4K (alternating protections, so {n} VMAs); ns per mmap",
            Prepare = () =>
            {
                var k = BenchMachine.Create();
                var mm = k.CreateProcess("bench");
                return new PreparedRun(k, () => { MapMany(k, mm, n, placed: false); return n; });
            },
            Live = new(BenchMachine.SizeSettings(0), ["mmap", TouchRegion.N(n)]),
            Targets = [BenchTarget.KernelRatio, BenchTarget.VmaOpNs],
        };
        yield return new BenchPattern
        {
            Name = $"vma-find-{count}",
            Family = "vma",
            Unit = "op",
            Description = $"find_vma() of every one of {n} VMAs; ns per lookup",
            Prepare = () =>
            {
                var k = BenchMachine.Create();
                var mm = k.CreateProcess("bench");
                var starts = MapMany(k, mm, n, placed: true);
                return new PreparedRun(k, () =>
                {
                    foreach (ulong a in starts)
                        if (mm.FindVma(a) == null) throw new InvalidOperationException("bench: a mapped VMA was not found");
                    return n;
                });
            },
            Targets = [BenchTarget.VmaOpNs],
        };
        yield return new BenchPattern
        {
            Name = $"vma-munmap-{count}",
            Family = "vma",
            Unit = "op",
            Description = $"munmap of each of {n} one-page VMAs, in mmap order; ns per munmap",
            Prepare = () =>
            {
                var k = BenchMachine.Create();
                var mm = k.CreateProcess("bench");
                var starts = MapMany(k, mm, n, placed: true);
                return new PreparedRun(k, () =>
                {
                    foreach (ulong a in starts)
                        if (k.Munmap(mm, a, (ulong)BenchMachine.PageSize) != 0) throw new InvalidOperationException("bench: munmap failed");
                    return n;
                });
            },
            Live = new(BenchMachine.SizeSettings(0), ["munmap-many", TouchRegion.N(n)]),
            Targets = [BenchTarget.KernelRatio, BenchTarget.VmaOpNs],
        };
    }

    /// <summary>
    /// n one-page mmaps. <paramref name="placed"/> (for setups, which are not timed) passes each the
    /// address top-down placement gives it anyway (just below the previous one, from mmap_base), so
    /// the layout is the same without the search for a gap.
    /// </summary>
    static ulong[] MapMany(Kernel k, MmStruct mm, int n, bool placed)
    {
        var starts = new ulong[n];
        ulong page = (ulong)BenchMachine.PageSize;
        for (int i = 0; i < n; i++)
        {
            long a = k.Mmap(mm, placed ? k.MmapBase - (ulong)(i + 1) * page : null, page, ProtOf(i));
            if (a < 0) throw new InvalidOperationException($"bench: mmap {i} failed ({Errno.Name(a)})");
            starts[i] = (ulong)a;
        }
        return starts;
    }
}
