namespace MthpSim.Sweep.Grid;

/// <summary>A grid file that cannot be swept: FILE:LINE: what is wrong.</summary>
public sealed class GridException(string file, int line, string message)
    : Exception(line > 0 ? $"{file}:{line}: {message}" : $"{file}: {message}");
