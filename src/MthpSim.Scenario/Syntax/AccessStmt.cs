namespace MthpSim.Scenario.Syntax;

/// <summary><c>P read|write REGION OFF LEN [step=S] [each=E]</c>; without Step every base page is touched once; Each (default 1 byte) only comes with Step.</summary>
public sealed record AccessStmt(SourceSpan Span, string Text, string Process, string Region, bool IsWrite, long Offset, long Length, long? Step, long? Each) : Statement(Span, Text);
