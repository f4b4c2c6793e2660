using BenchmarkDotNet.Attributes;

namespace MthpSim.Benchmarks;

/// <summary>Anonymous write faults on fresh memory (do_anonymous_page() at order 0, 64K, 2M); per 4K page.</summary>
[MemoryDiagnoser]
[InvocationCount(1)]
public class FaultBenchmarks
{
    Region _r = null!;

    [Params("4K", "64K", "2M")]
    public string Size { get; set; } = "4K";

    [IterationSetup]
    public void Setup() => _r = new Region(Region.Order(Size), written: false);

    [Benchmark(OperationsPerInvoke = Region.Pages)]
    public void WriteFresh() => _r.Write();
}
