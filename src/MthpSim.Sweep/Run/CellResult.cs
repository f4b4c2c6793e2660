using MthpSim.Scenario.Runtime;

namespace MthpSim.Sweep.Run;

/// <summary>
/// One line of a sweep's results file (docs/sweep.md, docs/schemas/sweep-cell.schema.json). Every field
/// but <see cref="ElapsedMs"/> follows from the grid, the input and the tool's version alone.
/// </summary>
public sealed record CellResult
{
    public required int Cell { get; init; }
    public required string Key { get; init; }
    public required string Input { get; init; }
    /// <summary><c>scenario</c> or <c>trace</c>.</summary>
    public required string Kind { get; init; }
    /// <summary>The collapse policy the run used (the axis's value, else the input's own or the default).</summary>
    public string? Policy { get; init; }
    /// <summary>The value of every axis of the cell, by its label (a sysfs path, <c>policy</c>, <c>machine.KEY</c>).</summary>
    public required SortedDictionary<string, string> Axes { get; init; }
    public ulong Seed { get; init; }
    /// <summary><c>pass</c> (ran, every expectation held), <c>fail</c> (ran, an expectation failed) or <c>error</c> (did not run to its end: see <see cref="Error"/>).</summary>
    public required string Outcome { get; init; }
    public string? Error { get; init; }
    public int Expectations { get; init; }
    public int ExpectationsHeld { get; init; }
    /// <summary>Each failed expectation: where, what, observed and expected.</summary>
    public IReadOnlyList<string> Failed { get; init; } = [];
    /// <summary>The scenario's own writes of a swept sysfs path, which wrote the cell's value instead.</summary>
    public IReadOnlyList<OverriddenWrite> Overridden { get; init; } = [];
    /// <summary>Every counter at the end: <c>vmstat/NAME</c>, <c>sysfs/PATH</c> (per-size stats, khugepaged's).</summary>
    public SortedDictionary<string, long> Counters { get; init; } = new(StringComparer.Ordinal);
    /// <summary>The collapse design's work and the memory mapped per folio size at the end (scenarios).</summary>
    public CollapseSummary? Collapse { get; init; }
    /// <summary>Per process at its end (traces).</summary>
    public IReadOnlyList<ProcessEnd>? Processes { get; init; }
    /// <summary>The trace's records that could not be replayed as recorded, with counts (traces).</summary>
    public SortedDictionary<string, long>? NotReplayed { get; init; }
    public required string Version { get; init; }
    /// <summary>Host time the cell took: the one field that differs between runs.</summary>
    public double ElapsedMs { get; init; }
}

/// <summary>A replayed process at its end: Rss and its anonymous and file pages by folio size.</summary>
public sealed record ProcessEnd(int Pid, string Comm, long RssKb, long RssAnonKb, long RssFileKb, long MinFlt,
    SortedDictionary<string, long> AnonPagesBySize, SortedDictionary<string, long> FilePagesBySize);
