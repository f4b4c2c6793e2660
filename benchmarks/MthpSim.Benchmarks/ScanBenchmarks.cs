using BenchmarkDotNet.Attributes;
using MthpSim.Bench;

namespace MthpSim.Benchmarks;

/// <summary>
/// One khugepaged round over 16 MiB of order-0, 64K or PTE-mapped 2M folios, every PMD range examined
/// in full and none collapsed (the suite's <c>khugepaged-scan-*</c> setup, so rounds repeat); per PTE.
/// </summary>
[MemoryDiagnoser]
public class ScanBenchmarks
{
    PreparedRun _run = null!;

    [Params("4K", "64K", "pte-mapped-2M")]
    public string Mix { get; set; } = "4K";

    [GlobalSetup]
    public void Setup() =>
        _run = BenchSuite.Create(BenchScale.Quick, scenariosDir: null).Single(p => p.Name == $"khugepaged-scan-{Mix}").Prepare();

    [Benchmark(OperationsPerInvoke = (int)(16L << 20) / 4096)]
    public long ScanRound() => _run.Body();
}
