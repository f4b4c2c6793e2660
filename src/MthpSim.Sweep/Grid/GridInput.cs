namespace MthpSim.Sweep.Grid;

/// <summary>What a cell runs: a scenario file or a recorded trace.</summary>
public enum InputKind { Scenario, Trace }

/// <summary>
/// One scenario or trace of a grid. <see cref="Name"/> is the path as the grid wrote it (a pattern
/// expanded), relative to the grid's folder: the same on every machine, so results of shards merge;
/// <see cref="FullPath"/> is where it is on this one.
/// </summary>
public sealed record GridInput(InputKind Kind, string Name, string FullPath, int Line);
