namespace MthpSim.Bench.Patterns;

/// <summary>
/// <c>fork-SIZE</c>: fork of a parent with the whole region written (order-0 or 2M folios) and the
/// child's exit, as the live side's fork() + _exit() + waitpid() does; ns per parent page.
/// </summary>
internal static class ForkPatterns
{
    static readonly int[] Orders = [0, BenchMachine.PmdOrder];

    public static IEnumerable<BenchPattern> All(BenchScale scale) => Orders.Select(order => new BenchPattern
    {
        Name = $"fork-{WritePatterns.Size(scale)}-{BenchMachine.Label(order)}",
        Family = "fork",
        Unit = "page",
        Description = $"fork of a parent with {WritePatterns.Size(scale)} written in {BenchMachine.Label(order)} folios, then the child exits; ns per parent page",
        Prepare = () =>
        {
            var r = new TouchRegion(scale, order, written: true);
            return new PreparedRun(r.Kernel, () =>
            {
                var child = r.Kernel.Fork(r.Mm, "child") ?? throw new InvalidOperationException("bench: fork failed");
                r.Kernel.Exit(child);
                return r.Pages;
            });
        },
        Live = new(BenchMachine.SizeSettings(order), ["fork", TouchRegion.N(scale.RegionBytes)]),
        Targets = [BenchTarget.KernelRatio],
    });
}
