using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Runtime;

/// <summary>One evaluated <c>expect</c>.</summary>
public sealed record ExpectationResult(SourceSpan Span, string Statement, string Observable, string Op, string Expected, string Observed, bool Passed)
{
    public string Describe() =>
        $"{Span.File}:{Span.Line}: expect failed: {Statement}\n    observed: {Observed}\n    expected: {Op} {Expected}";
}

/// <summary>A scenario's <c>sysfs PATH = Value</c> at Line that wrote the value a sweep holds instead.</summary>
public sealed record OverriddenWrite(int Line, string Path, string Value, string Held);

/// <summary>What one <c>print</c> statement wrote.</summary>
public sealed record PrintOutput(int Line, string Text);

/// <summary>The outcome of running one scenario file.</summary>
public sealed class RunResult
{
    public required string File { get; init; }
    public List<ExpectationResult> Expectations { get; } = new();
    /// <summary>Errors that make the file invalid (exit 2): parse errors and names the model does not know.</summary>
    public List<Diagnostic> Invalid { get; } = new();
    /// <summary>A runtime failure that stopped the run (an invariant violation, a statement the model cannot carry out).</summary>
    public string? Aborted { get; set; }
    /// <summary>The collapse design's measurements and the memory mapped per folio order at the end.</summary>
    public MthpSim.Core.Khugepaged.CollapseMetrics? CollapseMetrics { get; set; }
    /// <summary>The cost model the run's machine charged collapse work with (docs/collapse-cost.md).</summary>
    public MthpSim.Core.Khugepaged.CollapseCostModel? CollapseCost { get; set; }
    public long[] MappedBytesByOrder { get; set; } = [];
    /// <summary>TLB entries the live processes' present mappings need at the end (docs/cost-model.md), arm64's folded blocks included.</summary>
    public long? TlbEntries { get; set; }
    /// <summary>The collapse policy the run used, and its machine's seed.</summary>
    public string? PolicyName { get; set; }
    public ulong Seed { get; set; }
    /// <summary>The machine's base page size in kB (folio sizes are this shifted by the order).</summary>
    public long PageSizeKb { get; set; } = 4;

    /// <summary>Final value of every counter: vmstat, per-size stats, khugepaged counters.</summary>
    public SortedDictionary<string, long> Counters { get; } = new(StringComparer.Ordinal);

    /// <summary>The run was stopped (a signal) after <see cref="StatementsRun"/> of <see cref="Statements"/> statements.</summary>
    public bool Interrupted { get; set; }
    public int StatementsRun { get; set; }
    public int Statements { get; set; }
    /// <summary>The scenario's <c>sysfs</c> writes that wrote a held value instead (<see cref="RunOptions.HeldSysfs"/>).</summary>
    public List<OverriddenWrite> Overridden { get; } = new();
    /// <summary>The text of every <c>print</c>, in order (kept only with <see cref="RunOptions.KeepPrints"/>).</summary>
    public List<PrintOutput> Prints { get; } = new();

    public bool Passed => Invalid.Count == 0 && Aborted == null && !Interrupted && Expectations.All(e => e.Passed);
    public IEnumerable<ExpectationResult> Failures => Expectations.Where(e => !e.Passed);

    /// <summary>0 when every expectation holds, 1 when some fail or the run aborted, 2 for an invalid file.</summary>
    public int ExitCode => Invalid.Count > 0 ? 2 : Passed ? 0 : 1;
}
