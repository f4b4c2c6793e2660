using System.Globalization;

namespace MthpSim.Core.PageAlloc;

/// <summary>
/// One zone of a /proc/pagetypeinfo capture: the pageblock order, free blocks per migratetype and
/// order, and pageblocks per type. The zone is Normal when the capture has one, else the largest.
/// HighAtomic counts are folded into Unmovable and Isolate into Movable (the model has neither).
/// </summary>
public sealed record PagetypeSnapshot(string Zone, int PageblockOrder, long[][] Free, long[] Blocks)
{
    public long TotalBlocks => Blocks.Sum();

    /// <summary>Reads a capture; the error says what is wrong with it, with its line.</summary>
    public static PagetypeSnapshot Parse(string text, out string? error)
    {
        error = null;
        var lines = text.Replace("\r", "").Split('\n');
        int order = -1;
        var free = new Dictionary<string, Dictionary<string, long[]>>();
        var blocks = new Dictionary<string, long[]>();
        string[]? blockTypes = null;
        for (int n = 0; n < lines.Length; n++)
        {
            string l = lines[n];
            string Fail(string why) => $"line {n + 1}: {why}: {Echo(l)}";
            if (l.StartsWith("Page block order:", StringComparison.Ordinal))
            {
                if (!int.TryParse(l["Page block order:".Length..].Trim(), CultureInfo.InvariantCulture, out order)) { error = Fail("not a pageblock order"); return Empty; }
            }
            else if (l.StartsWith("Number of blocks type", StringComparison.Ordinal))
                blockTypes = l["Number of blocks type".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            else if (l.StartsWith("Node", StringComparison.Ordinal) && l.Contains(", type ", StringComparison.Ordinal))
            {
                // Node    0, zone   Normal, type    Unmovable      0      1 ...
                var parts = l.Split(',', 3);
                string zone = parts[1].Trim()["zone".Length..].Trim();
                var rest = parts[2].Trim()["type".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var counts = new long[rest.Length - 1];
                for (int i = 1; i < rest.Length; i++)
                    if (!long.TryParse(rest[i].TrimStart('>'), CultureInfo.InvariantCulture, out counts[i - 1])) { error = Fail("not a count"); return Empty; }
                (free.TryGetValue(zone, out var z) ? z : free[zone] = new())[rest[0]] = counts;
            }
            else if (l.StartsWith("Node", StringComparison.Ordinal) && blockTypes != null)
            {
                // Node 0, zone   Normal     50   1210 ...
                var parts = l.Split(',', 2);
                var words = parts[1].Trim()["zone".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var counts = new long[words.Length - 1];
                for (int i = 1; i < words.Length; i++)
                    if (!long.TryParse(words[i], CultureInfo.InvariantCulture, out counts[i - 1])) { error = Fail("not a block count"); return Empty; }
                if (counts.Length != blockTypes.Length) { error = Fail($"{counts.Length} block counts for {blockTypes.Length} types"); return Empty; }
                blocks[words[0]] = counts;
            }
        }
        if (order < 0) { error = "no 'Page block order:' line (is this /proc/pagetypeinfo?)"; return Empty; }
        if (blocks.Count == 0 || blockTypes == null) { error = "no 'Number of blocks type' table"; return Empty; }
        string pick = blocks.ContainsKey("Normal") ? "Normal" : blocks.MaxBy(b => b.Value.Sum()).Key;
        if (!free.TryGetValue(pick, out var rows)) { error = $"no free-page rows for zone {pick}"; return Empty; }
        int orders = rows.Values.First().Length;
        var f = new long[MigrateTypes.PcpTypes][];
        for (int t = 0; t < f.Length; t++) f[t] = new long[orders];
        var b = new long[MigrateTypes.PcpTypes];
        foreach (var (name, counts) in rows)
        {
            int t = Fold(name);
            if (t < 0) { error = $"unknown migratetype {Echo(name)} in zone {pick}"; return Empty; }
            for (int o = 0; o < orders; o++) f[t][o] += counts[o];
        }
        for (int i = 0; i < blockTypes.Length; i++)
        {
            int t = Fold(blockTypes[i]);
            if (t < 0) { error = $"unknown migratetype {Echo(blockTypes[i])} in the block counts"; return Empty; }
            b[t] += blocks[pick][i];
        }
        return new PagetypeSnapshot(pick, order, f, b);
    }

    /// <summary>The model's type for a name the kernel prints (CMA, where configured, counts as movable).</summary>
    static int Fold(string name) => name switch
    {
        "Unmovable" or "HighAtomic" => (int)MigrateType.Unmovable,
        "Movable" or "Isolate" or "CMA" => (int)MigrateType.Movable,
        "Reclaimable" => (int)MigrateType.Reclaimable,
        _ => -1,
    };

    static string Echo(string s) => "'" + (s.Length > 80 ? s[..80] + "..." : s) + "'";

    static readonly PagetypeSnapshot Empty = new("", 0, [], []);
}
