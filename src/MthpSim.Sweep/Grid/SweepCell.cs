namespace MthpSim.Sweep.Grid;

/// <summary>
/// One run of a sweep: an input under one value of every axis. <see cref="Index"/> is its place in
/// the grid's expansion (inputs outermost, then the axes in the grid's order); <see cref="Key"/>
/// names it by content, so a rerun or another shard recognises it.
/// </summary>
public sealed record SweepCell(int Index, GridInput Input, IReadOnlyList<(GridAxis Axis, string Value)> Values)
{
    public string Key => string.Join(" ", [Input.Name, .. Values.Select(v => $"{v.Axis.Label}={v.Value}")]);

    public string? Policy => Values.FirstOrDefault(v => v.Axis.Kind == AxisKind.Policy).Value;

    public IReadOnlyList<KeyValuePair<string, string>> Sysfs =>
        [.. Values.Where(v => v.Axis.Kind == AxisKind.Sysfs).Select(v => new KeyValuePair<string, string>(v.Axis.Name, v.Value))];

    public IReadOnlyList<KeyValuePair<string, string>> Machine =>
        [.. Values.Where(v => v.Axis.Kind == AxisKind.Machine).Select(v => new KeyValuePair<string, string>(v.Axis.Name, v.Value))];
}
