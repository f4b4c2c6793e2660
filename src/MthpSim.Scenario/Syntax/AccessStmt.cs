namespace MthpSim.Scenario.Syntax;

/// <summary>
/// <c>P read|write|rmw REGION OFF LEN [step=S] [each=E]</c>; without Step every base page is touched
/// once; Each (default 1 byte) only comes with Step. An rmw (an atomic read-modify-write) is a write
/// (<see cref="IsWrite"/>: it stores) that faults as the machine's <c>rmw=</c> says.
/// </summary>
public sealed record AccessStmt(SourceSpan Span, string Text, string Process, string Region, bool IsWrite, long Offset, long Length, long? Step, long? Each) : Statement(Span, Text)
{
    public bool IsRmw { get; init; }
}
