namespace MthpSim.Scenario.Syntax;

/// <summary>A value a scenario can expect or print. Span is the observable's first word.
/// ToString gives the source form, for messages such as a failing expect.</summary>
public abstract record Observable(SourceSpan Span)
{
    public abstract override string ToString();
}
