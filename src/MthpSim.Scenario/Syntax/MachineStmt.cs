namespace MthpSim.Scenario.Syntax;

/// <summary>
/// <c>machine [memory=SIZE] [page=4K|16K|64K] [arch=x86_64|arm64] [swap=SIZE] [swapdev=zram|disk|file] [rmw=read-then-write|write] [seed=N]</c>;
/// null means the default (memory=16G page=4K arch=x86_64 swap=0 swapdev=zram rmw=read-then-write seed=1) so the runner owns the defaults.
/// </summary>
public sealed record MachineStmt(SourceSpan Span, string Text, long? Memory, long? PageSize, string? Arch, long? Swap, ulong? Seed) : Statement(Span, Text)
{
    public string? SwapDev { get; init; }
    /// <summary>How an atomic read-modify-write faults on arm64; x86_64 always takes one write fault.</summary>
    public string? Rmw { get; init; }
}
