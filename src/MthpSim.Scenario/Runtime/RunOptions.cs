namespace MthpSim.Scenario.Runtime;

/// <summary>How a scenario is run.</summary>
public sealed record RunOptions
{
    /// <summary>
    /// After every statement, run the invariant checker and compare page contents with the harness's
    /// own record of what the programs stored (tests always do; the CLI with --check).
    /// </summary>
    public bool CheckInvariants { get; init; }
    /// <summary>Where <c>print</c> output and notes go; null discards them.</summary>
    public TextWriter? Output { get; init; }
    /// <summary>Runs the scenario under this collapse policy (<c>mthpsim compare</c>); the scenario must not choose one itself.</summary>
    public string? Policy { get; init; }
    /// <summary>Shown the machine after every statement that ran (<c>mthpsim report</c> samples it); null costs nothing.</summary>
    public Action<MthpSim.Core.Kernel, Syntax.Statement>? AfterStatement { get; init; }
    /// <summary>Told (statements done, statements in the file) after every statement, for a progress display; null costs nothing.</summary>
    public Action<int, int>? StatementDone { get; init; }
    /// <summary>Once cancelled, the run stops after the statement it is in and its result says <see cref="RunResult.Interrupted"/>.</summary>
    public CancellationToken Cancel { get; init; }
    /// <summary>Also keep the text of every <c>print</c> in <see cref="RunResult.Prints"/> (<c>run --json</c>).</summary>
    public bool KeepPrints { get; init; }
    /// <summary>
    /// Machine options that replace the scenario's own (<c>mthpsim sweep</c>): each non-null field of
    /// this statement wins over the same field of the scenario's <c>machine</c> statement.
    /// </summary>
    public Syntax.MachineStmt? Machine { get; init; }
    /// <summary>
    /// Settings held for the whole run (<c>mthpsim sweep</c>): written before the first statement, and
    /// a <c>sysfs</c> statement of the scenario that writes one of these paths writes the held value
    /// instead (rc as for that write), listed in <see cref="RunResult.Overridden"/>.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> HeldSysfs { get; init; } = [];
}
