namespace MthpSim.Scenario.Syntax;

/// <summary>The right-hand side of an expect: a number or, for settings, a word.</summary>
public abstract record Operand;

/// <summary>A number in bytes/units as written. HasSizeSuffix is kept because the runner must
/// turn "2176kB" or "2M" into kB for kB-valued observables (smaps, meminfo, thpmaps), while
/// a plain number is compared as is.</summary>
public sealed record NumberOperand(long Value, bool HasSizeSuffix) : Operand
{
    public override string ToString() => HasSizeSuffix ? NumberSyntax.FormatSize(Value) : Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A word such as "always"; only == and != are allowed with it.</summary>
public sealed record WordOperand(string Word) : Operand
{
    public override string ToString() => Word;
}
