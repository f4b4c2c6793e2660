namespace MthpSim.Bench;

/// <summary>
/// How big the suite's workloads are: the full suite (1 GiB regions, 100,000 VMAs) or a quick one
/// small enough for a unit test to run (<c>--quick</c>).
/// </summary>
public sealed record BenchScale(string Name, long RegionBytes, int VmaCount, long FuzzOps)
{
    public static BenchScale Full { get; } = new("full", 1L << 30, 100_000, 2_000);
    public static BenchScale Quick { get; } = new("quick", 16L << 20, 1_000, 100);
}
