using BenchmarkDotNet.Attributes;

namespace MthpSim.Benchmarks;

/// <summary>Loads and stores to memory that is already mapped writable (the no-fault path); per 4K page.</summary>
[MemoryDiagnoser]
public class TouchBenchmarks
{
    Region _r = null!;

    [Params("4K", "64K", "2M")]
    public string Size { get; set; } = "4K";

    [GlobalSetup]
    public void Setup() => _r = new Region(Region.Order(Size), written: true);

    [Benchmark(OperationsPerInvoke = Region.Pages)]
    public void WriteMapped() => _r.Write();

    [Benchmark(OperationsPerInvoke = Region.Pages)]
    public void ReadMapped() => _r.Read();
}
