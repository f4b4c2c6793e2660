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
        yield return OverEveryVma($"vma-find-{count}", n, $"find_vma() of every one of {n} VMAs; ns per lookup", null,
            (k, mm, a) => mm.FindVma(a) != null, "a mapped VMA was not found");
        yield return OverEveryVma($"vma-munmap-{count}", n, $"munmap of each of {n} one-page VMAs, in mmap order; ns per munmap",
            new(BenchMachine.SizeSettings(0), ["munmap-many", TouchRegion.N(n)]),
            (k, mm, a) => k.Munmap(mm, a, (ulong)BenchMachine.PageSize) == 0, "munmap failed");
    }

    /// <summary>A pattern timing one operation on each of n mapped one-page VMAs (the mapping is setup, untimed).</summary>
    static BenchPattern OverEveryVma(string name, int n, string description, LiveBenchSpec? live, Func<Kernel, MmStruct, ulong, bool> op, string failure) => new()
    {
        Name = name,
        Family = "vma",
        Unit = "op",
        Description = description,
        Prepare = () =>
        {
            var k = BenchMachine.Create();
            var mm = k.CreateProcess("bench");
            var starts = MapMany(k, mm, n, placed: true);
            return new PreparedRun(k, () =>
            {
                foreach (ulong a in starts)
                    if (!op(k, mm, a)) throw new InvalidOperationException($"bench: {failure}");
                return n;
            });
        },
        Live = live,
        Targets = live != null ? [BenchTarget.KernelRatio, BenchTarget.VmaOpNs] : [BenchTarget.VmaOpNs],
    };

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
