namespace MthpSim.Trace.Format;

/// <summary>A trace file that is not one, is damaged, or ends early; <see cref="Offset"/> is the byte where reading failed.</summary>
public sealed class TraceFormatException(string path, long offset, string problem)
    : Exception($"{path}: {problem} (at byte {offset})")
{
    public long Offset { get; } = offset;
    public string Problem { get; } = problem;
}
