namespace MthpSim.Scenario.Syntax;

/// <summary>The outcome of parsing one scenario file. A file with any error must not be run
/// at all (the spec: errors stop the run before anything executes), so callers check
/// <see cref="Success"/> before looking at <see cref="Statements"/>.</summary>
public sealed record ParseResult(IReadOnlyList<Statement> Statements, IReadOnlyList<Diagnostic> Errors)
{
    public bool Success => Errors.Count == 0;
}
