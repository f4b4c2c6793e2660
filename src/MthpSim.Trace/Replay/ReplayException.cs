namespace MthpSim.Trace.Replay;

/// <summary>A trace the replay cannot use at all (another architecture, say).</summary>
public sealed class ReplayException(string message) : Exception(message);
