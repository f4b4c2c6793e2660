using MthpSim.Scenario.Runtime;

namespace MthpSim.Oracle.Compare;

/// <summary>One expectation evaluated on both sides.</summary>
public sealed record OracleExpectation(int Line, string Statement, string Observable, ExpectationResult Live, ExpectationResult Sim)
{
    /// <summary>
    /// Both sides satisfy the expectation. For <c>==</c> that means the same value; an inequality
    /// (<c>!=</c>, <c>&lt;</c>, <c>&gt;=</c>, ...) is the scenario allowing a range, and values inside it
    /// may differ (an address the live kernel chose among its libraries, a count of reclaim passes).
    /// </summary>
    public bool Agrees => Live.Passed && Sim.Passed && (Live.Op != "==" || Live.Observed == Sim.Observed);
}

/// <summary>The outcome of one scenario under the oracle.</summary>
public sealed class OracleResult
{
    public required string File { get; init; }
    public string? KernelRelease { get; set; }
    public List<OracleExpectation> Expectations { get; } = new();
    /// <summary>Counter name → (live change, simulated value), for every counter either side moved.</summary>
    public SortedDictionary<string, (long Live, long Sim)> Counters { get; } = new(StringComparer.Ordinal);
    public List<string> Notes { get; } = new();
    public List<string> Invalid { get; } = new();
    public string? Aborted { get; set; }
    /// <summary>Why the live kernel could not be used (exit status 3).</summary>
    public string? Unavailable { get; set; }
    /// <summary>Set when a signal stopped the run (exit status 128 + its number).</summary>
    public int? InterruptedStatus { get; set; }

    public int ExitCode =>
        InterruptedStatus is int s ? s
        : Invalid.Count > 0 ? 2
        : Unavailable != null ? 3
        : Aborted == null && Expectations.All(e => e.Agrees) ? 0 : 1;
}
