namespace MthpSim.Bench.Patterns;

/// <summary>
/// <c>read-SIZE</c>: first read of every page of fresh memory under SIZE's settings. Reads allocate
/// nothing: below the PMD size they map the shared zero page PTE by PTE, at 2M the huge zero page.
/// </summary>
internal static class ReadPatterns
{
    public static IEnumerable<BenchPattern> All(BenchScale scale) => BenchMachine.AllSizes.Select(order => new BenchPattern
    {
        Name = $"read-{BenchMachine.Label(order)}",
        Family = "read",
        Unit = "page",
        Description = $"read one byte per 4K page of a fresh {WritePatterns.Size(scale)} region under {BenchMachine.Label(order)} settings (zero page; huge zero page at 2M)",
        Prepare = () =>
        {
            var r = new TouchRegion(scale, order, written: false);
            return new PreparedRun(r.Kernel, () =>
            {
                BenchMachine.Touch(r.Kernel, r.Mm, r.Start, r.Bytes, write: false);
                return r.Pages;
            });
        },
        Live = TouchRegion.Live(scale, order, BenchMachine.PageSize, write: false, pretouch: false),
        Targets = [BenchTarget.KernelRatio],
    });
}
