namespace MthpSim.Scenario.Syntax;

/// <summary>Outcome of reading a number word. Invalid and overflowing numbers are told apart
/// so that "12x" and "99999999T" get different messages; Hint says what was wrong when
/// something more specific than "expected a number" is known.</summary>
internal readonly record struct NumberResult(NumberStatus Status, long Value, bool HasSizeSuffix, string? Hint)
{
    public bool Ok => Status == NumberStatus.Ok;

    public static NumberResult Invalid(string? hint = null) => new(NumberStatus.Invalid, 0, false, hint);
    public static NumberResult Overflow() => new(NumberStatus.Overflow, 0, false, null);
}

internal enum NumberStatus { Ok, Invalid, Overflow }
