namespace MthpSim.Scenario.Syntax;

/// <summary>The userfaultfd operation of a <c>P uffd ...</c> statement.</summary>
public enum UffdOp { Register, Unregister, Copy, Zeropage, Continue, WriteProtect }

/// <summary>The modes of <c>uffd register</c> (UFFDIO_REGISTER_MODE_*).</summary>
[Flags]
public enum UffdModes { None = 0, Missing = 1, Wp = 2, Minor = 4 }

/// <summary>How the process's handler thread resolves a fault delivered from a registered range.</summary>
public enum UffdHandler { Copy, Zeropage, None }

/// <summary>
/// <c>P uffd register|unregister|copy|zeropage|continue|wp REGION OFF LEN ...</c>: userfaultfd on
/// the process's own range. <see cref="Modes"/> and <see cref="Handler"/> are for register,
/// <see cref="Protect"/> for wp.
/// </summary>
public sealed record UffdStmt(SourceSpan Span, string Text, string Process, UffdOp Op, string Region, long Offset, long Length) : Statement(Span, Text)
{
    public UffdModes Modes { get; init; }
    public UffdHandler Handler { get; init; }
    public bool Protect { get; init; }
}
