namespace MthpSim.Scenario.Syntax;

/// <summary><c>P mmap REGION ADDR|any LEN [PROT] [private|shared] [anon|memfd:FILE[+OFFSET]]</c>. Addr null means any; MemfdFile null means anonymous.</summary>
public sealed record MmapStmt(SourceSpan Span, string Text, string Process, string Region, long? Addr, long Length, Prot Prot, bool Shared, string? MemfdFile, long MemfdOffset) : Statement(Span, Text);
