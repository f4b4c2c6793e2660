namespace MthpSim.Core.Cost;

/// <summary>Kernel work counted for one process (or the kernel's own threads), per operation and unit.</summary>
public sealed class WorkTally
{
    /// <summary>Counts at [op × units + unit].</summary>
    internal readonly long[] Counts = new long[CostOpNames.Count * KernelWorkNames.Count];

    public long this[CostOp op, KernelWork unit] => Counts[(int)op * KernelWorkNames.Count + (int)unit];

    /// <summary>A unit counted over every operation.</summary>
    public long Total(KernelWork unit)
    {
        long n = 0;
        for (int op = 0; op < CostOpNames.Count; op++) n += Counts[op * KernelWorkNames.Count + (int)unit];
        return n;
    }

    /// <summary>Adds another tally's counts (a machine-wide sum).</summary>
    public void Add(WorkTally other)
    {
        for (int i = 0; i < Counts.Length; i++) Counts[i] += other.Counts[i];
    }
}
