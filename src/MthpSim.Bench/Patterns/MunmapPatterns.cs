namespace MthpSim.Bench.Patterns;

/// <summary><c>munmap-SIZE</c>: munmap of a fully written region (zap, folio frees, page table frees); ns per page.</summary>
internal static class MunmapPatterns
{
    static readonly int[] Orders = [0, 4, BenchMachine.PmdOrder];

    public static IEnumerable<BenchPattern> All(BenchScale scale) => Orders.Select(order => new BenchPattern
    {
        Name = $"munmap-{WritePatterns.Size(scale)}-{BenchMachine.Label(order)}",
        Family = "munmap",
        Unit = "page",
        Description = $"munmap of {WritePatterns.Size(scale)} written in {BenchMachine.Label(order)} folios; ns per page",
        Prepare = () =>
        {
            var r = new TouchRegion(scale, order, written: true);
            return new PreparedRun(r.Kernel, () =>
            {
                long rc = r.Kernel.Munmap(r.Mm, r.Start, (ulong)r.Bytes);
                if (rc != 0) throw new InvalidOperationException($"bench: munmap failed ({rc})");
                return r.Pages;
            });
        },
        Live = new(BenchMachine.SizeSettings(order), ["munmap", TouchRegion.N(scale.RegionBytes)]),
        Targets = [BenchTarget.KernelRatio],
    });
}
