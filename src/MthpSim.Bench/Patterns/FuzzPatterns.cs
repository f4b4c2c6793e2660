using MthpSim.Scenario.Fuzz;

namespace MthpSim.Bench.Patterns;

/// <summary><c>fuzz</c>: the fuzzer (random statements, the invariant checker after each) from a fixed seed; ns per operation.</summary>
internal static class FuzzPatterns
{
    public static IEnumerable<BenchPattern> All(BenchScale scale)
    {
        yield return new BenchPattern
        {
            Name = "fuzz",
            Family = "fuzz",
            Unit = "op",
            Description = $"mthpsim fuzz --ops {scale.FuzzOps} --seed 1; ns per operation",
            Prepare = () => new PreparedRun(null, () =>
            {
                var report = Fuzzer.Run(scale.FuzzOps, seed: 1);
                if (report.Failure is { } f) throw new InvalidOperationException($"bench: the fuzzer failed: {f.Reason}");
                return report.Ops;
            }),
            Targets = [BenchTarget.FuzzOpsPerSecond],
        };
    }
}
