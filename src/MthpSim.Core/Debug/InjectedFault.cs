namespace MthpSim.Core;

/// <summary>
/// Deliberate bugs a test can switch on (<c>Kernel.InjectedFaults</c>) to prove that a checker
/// catches them. Each moves or drops a mapping together with the kernel model's own record of what
/// the page must hold, so only a record kept outside the model can notice.
/// </summary>
[Flags]
internal enum InjectedFault
{
    None = 0,
    /// <summary>A zap also unmaps the page after its range, when the same VMA maps it.</summary>
    ZapOnePageTooMany = 1,
    /// <summary>move_ptes() swaps the first two entries it moves.</summary>
    MremapSwapsTwoPtes = 2,
}
