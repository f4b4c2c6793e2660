namespace MthpSim.Scenario.Syntax;

/// <summary><c>P mmap REGION ADDR|any LEN [PROT] [private|shared] [anon|memfd:FILE[+OFFSET]|file:FILE[+OFFSET]]</c>. Addr null means any; File null means anonymous (memfd: and file: name the same kind of file).</summary>
public sealed record MmapStmt(SourceSpan Span, string Text, string Process, string Region, long? Addr, long Length, Prot Prot, bool Shared, string? File, long FileOffset) : Statement(Span, Text);
