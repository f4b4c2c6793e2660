namespace MthpSim.Scenario.Syntax;

/// <summary>One word of a line with its 1-based column, kept so errors can point at it.</summary>
internal readonly record struct Token(string Text, int Column);
