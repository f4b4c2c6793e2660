namespace MthpSim.Bench.Patterns;

/// <summary><c>retouch-SIZE</c>: writing memory that is already mapped writable (no fault on the kernel either).</summary>
internal static class RetouchPatterns
{
    static readonly int[] Orders = [0, 4, BenchMachine.PmdOrder];

    public static IEnumerable<BenchPattern> All(BenchScale scale) => Orders.Select(order => new BenchPattern
    {
        Name = $"retouch-{BenchMachine.Label(order)}",
        Family = "retouch",
        Unit = "page",
        Description = $"write one byte per 4K page of a {WritePatterns.Size(scale)} region already written ({BenchMachine.Label(order)} folios)",
        Prepare = () =>
        {
            var r = new TouchRegion(scale, order, written: true);
            return new PreparedRun(r.Kernel, () =>
            {
                BenchMachine.Touch(r.Kernel, r.Mm, r.Start, r.Bytes, write: true);
                return r.Pages;
            });
        },
        Live = TouchRegion.Live(scale, order, BenchMachine.PageSize, write: true, pretouch: true),
        Targets = [BenchTarget.KernelRatio, BenchTarget.HostBytesPerPage],
    });
}
