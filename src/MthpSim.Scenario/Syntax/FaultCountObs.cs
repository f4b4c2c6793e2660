namespace MthpSim.Scenario.Syntax;

/// <summary><c>P minflt</c> / <c>P majflt</c>: the process's fault counts (fields 10 and 12 of /proc/PID/stat).</summary>
public sealed record FaultCountObs(SourceSpan Span, string Process, bool Major) : Observable(Span)
{
    public override string ToString() => $"{Process} {(Major ? "majflt" : "minflt")}";
}
