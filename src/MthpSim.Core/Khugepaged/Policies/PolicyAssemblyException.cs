namespace MthpSim.Core.Khugepaged.Policies;

/// <summary>An assembly given as a collapse design that cannot be used; the message names the file and why.</summary>
public sealed class PolicyAssemblyException(string message, Exception? inner = null) : Exception(message, inner);
