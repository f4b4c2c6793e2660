using MthpSim.Core;

namespace MthpSim.Bench;

/// <summary>
/// A pattern after its setup: the machine it built (null when the body builds its own, as the fuzzer
/// does) and the measured body, which returns how many units (pages, operations, PTEs) it did.
/// </summary>
public sealed class PreparedRun(Kernel? kernel, Func<long> body)
{
    public Kernel? Kernel { get; } = kernel;
    public long Body() => body();
}
