namespace MthpSim.Scenario.Syntax;

/// <summary>Base of every statement. Span is the position of the statement's first word;
/// Text is the source line without its comment, trimmed, for messages such as a failing expect.</summary>
public abstract record Statement(SourceSpan Span, string Text);
