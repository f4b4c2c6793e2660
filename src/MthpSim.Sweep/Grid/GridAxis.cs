namespace MthpSim.Sweep.Grid;

/// <summary>What an axis of a sweep varies.</summary>
public enum AxisKind { Sysfs, Policy, Machine }

/// <summary>
/// One axis of a grid: a sysfs path (<c>sysfs khugepaged/max_ptes_none = 0 | 511</c>), the collapse
/// policy (<c>policy collapse = pmd-only | mthp</c>) or a machine option (<c>machine memory = 2G | 4G</c>),
/// with its values in the order the grid gives them.
/// </summary>
public sealed record GridAxis(AxisKind Kind, string Name, IReadOnlyList<string> Values, int Line)
{
    /// <summary>How the axis is named in a cell's key and in results: the sysfs path, <c>policy</c>, or <c>machine.KEY</c>.</summary>
    public string Label => Kind switch { AxisKind.Policy => "policy", AxisKind.Machine => $"machine.{Name}", _ => Name };
}
