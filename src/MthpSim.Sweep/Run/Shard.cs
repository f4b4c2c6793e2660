using System.Globalization;

namespace MthpSim.Sweep.Run;

/// <summary>
/// Which share of a grid's cells one machine runs: cell i belongs to shard i mod Count, so shards are
/// the same size within one cell and the assignment depends on the grid alone.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public bool Owns(int cell) => cell % Count == Index;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>"I/N" with 0 ≤ I &lt; N (a Slurm array's or an Indexed Job's index, and their count).</summary>
    public static bool TryParse(string text, out Shard shard, out string error)
    {
        shard = default;
        error = "";
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            error = $"--shard takes I/N (this shard's index from 0, and the number of shards), got '{text}'";
            return false;
        }
        if (n < 1 || i >= n) { error = $"--shard {text}: the index must be at least 0 and below the number of shards ({n})"; return false; }
        shard = new Shard(i, n);
        return true;
    }
}
