using BenchmarkDotNet.Running;

namespace MthpSim.Benchmarks;

/// <summary>
/// BenchmarkDotNet entry point: <c>dotnet run -c Release --project benchmarks/MthpSim.Benchmarks -- --filter '*'</c>
/// (add <c>--job short</c> for a quick look). The end-to-end suite with the live-kernel ratios is <c>mthpsim bench</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
