namespace MthpSim.Trace.Replay;

/// <summary>
/// Runs of present pages in a VMA, each [start, end), in address order: printed as
/// <c>start-end,start-end</c> in hex only when asked for (a census keeps them for every VMA of
/// every process's last snapshot, and most are never printed).
/// </summary>
public sealed class PageRuns
{
    readonly List<(ulong Start, ulong End)> _runs = [];

    public IReadOnlyList<(ulong Start, ulong End)> Runs => _runs;

    internal void Add(ulong start, ulong end) => _runs.Add((start, end));

    public override string ToString() => string.Join(",", _runs.Select(r => $"{r.Start:x}-{r.End:x}"));
}
