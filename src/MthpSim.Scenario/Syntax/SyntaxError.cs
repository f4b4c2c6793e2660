namespace MthpSim.Scenario.Syntax;

/// <summary>Thrown inside the parser to abandon the rest of a line at its first error; the
/// parser turns it into a <see cref="Diagnostic"/> and goes on with the next line.</summary>
internal sealed class SyntaxError(int column, string message) : Exception(message)
{
    public int Column { get; } = column;
}
