namespace MthpSim.Core.Khugepaged;

/// <summary>struct collapse_control: who collapses. Only khugepaged applies the max_ptes_* limits and the young-page rule.</summary>
public readonly record struct CollapseControl(bool IsKhugepaged);
