namespace MthpSim.Bench.Patterns;

/// <summary><c>write-SIZE</c>: first write to every page of fresh memory, faults allocating folios of SIZE.</summary>
internal static class WritePatterns
{
    public static IEnumerable<BenchPattern> All(BenchScale scale) => BenchMachine.AllSizes.Select(order => new BenchPattern
    {
        Name = $"write-{BenchMachine.Label(order)}",
        Family = "write",
        Unit = "page",
        Description = $"write one byte per 4K page of a fresh {Size(scale)} region; faults allocate {BenchMachine.Label(order)} folios",
        Prepare = () =>
        {
            var r = new TouchRegion(scale, order, written: false);
            return new PreparedRun(r.Kernel, () =>
            {
                BenchMachine.Touch(r.Kernel, r.Mm, r.Start, r.Bytes, write: true);
                return r.Pages;
            });
        },
        Live = TouchRegion.Live(scale, order, BenchMachine.PageSize, write: true, pretouch: false),
        Targets = [BenchTarget.KernelRatio, BenchTarget.HostBytesPerPage],
    });

    internal static string Size(BenchScale scale) => scale.RegionBytes >= 1L << 30 ? $"{scale.RegionBytes >> 30}G" : $"{scale.RegionBytes >> 20}M";
}
