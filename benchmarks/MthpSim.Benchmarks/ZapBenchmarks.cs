using BenchmarkDotNet.Attributes;

namespace MthpSim.Benchmarks;

/// <summary>munmap() of 64 MiB written (zap of PTEs or PMDs, folio frees, page table frees); per page.</summary>
[MemoryDiagnoser]
[InvocationCount(1)]
public class ZapBenchmarks
{
    Region _r = null!;

    [Params("4K", "64K", "2M")]
    public string Size { get; set; } = "4K";

    [IterationSetup]
    public void Setup() => _r = new Region(Region.Order(Size), written: true);

    [Benchmark(OperationsPerInvoke = Region.Pages)]
    public long Munmap() => _r.Kernel.Munmap(_r.Mm, _r.Start, (ulong)Region.Bytes);
}
