namespace MthpSim.Scenario.Syntax;

/// <summary>A position in a scenario file (1-based line and column), so that every
/// diagnostic, at parse time or at run time, can say file:line:col.</summary>
public readonly record struct SourceSpan(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}
