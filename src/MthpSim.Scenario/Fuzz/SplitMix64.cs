namespace MthpSim.Scenario.Fuzz;

/// <summary>A small, explicit PRNG (SplitMix64), so a seed means the same scenario on every .NET version.</summary>
public sealed class SplitMix64(ulong seed)
{
    ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n).</summary>
    public int Below(int n) => (int)(Next() % (ulong)n);
    public bool Chance(int percent) => Below(100) < percent;
    public T Pick<T>(IReadOnlyList<T> items) => items[Below(items.Count)];
}
