namespace MthpSim.Bench.Patterns;

/// <summary><c>sparse-SIZE</c>: one write per 64K of fresh memory, so each touch is a fault (of a SIZE folio).</summary>
internal static class SparsePatterns
{
    const long Stride = 64 << 10;
    static readonly int[] Orders = [0, 4, BenchMachine.PmdOrder];

    public static IEnumerable<BenchPattern> All(BenchScale scale) => Orders.Select(order => new BenchPattern
    {
        Name = $"sparse-{BenchMachine.Label(order)}",
        Family = "sparse",
        Unit = "op",
        Description = $"one write per 64K of a fresh {WritePatterns.Size(scale)} region, {BenchMachine.Label(order)} folios; ns per write",
        Prepare = () =>
        {
            var r = new TouchRegion(scale, order, written: false);
            return new PreparedRun(r.Kernel, () =>
            {
                long n = r.Bytes / Stride;
                for (long i = 0; i < n; i++)
                    BenchMachine.Touch(r.Kernel, r.Mm, r.Start + (ulong)(i * Stride), 1, write: true);
                return n;
            });
        },
        Live = TouchRegion.Live(scale, order, Stride, write: true, pretouch: false),
        Targets = [BenchTarget.KernelRatio],
    });
}
