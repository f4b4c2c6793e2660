using BenchmarkDotNet.Attributes;

namespace MthpSim.Benchmarks;

/// <summary>fork() of a parent with 64 MiB written, and the child's exit (copy_page_range() then exit_mmap()); per parent page.</summary>
[MemoryDiagnoser]
public class ForkBenchmarks
{
    Region _r = null!;

    [Params("4K", "2M")]
    public string Size { get; set; } = "4K";

    [GlobalSetup]
    public void Setup() => _r = new Region(Region.Order(Size), written: true);

    [Benchmark(OperationsPerInvoke = Region.Pages)]
    public void ForkAndExit()
    {
        var child = _r.Kernel.Fork(_r.Mm, "child") ?? throw new InvalidOperationException("fork failed");
        _r.Kernel.Exit(child);
    }
}
