using System.Text;

namespace MthpSim.Trace.Format;

/// <summary>
/// The trace's properties, written as <c>key=value</c> lines after the magic: what machine it was
/// recorded on (<c>arch</c>, <c>page</c>), the clock, the command, and the THP settings it ran under.
/// Keys keep the order they were added in, so a header reads back byte for byte.
/// </summary>
public sealed class TraceHeader
{
    readonly List<KeyValuePair<string, string>> _props = [];

    public IReadOnlyList<KeyValuePair<string, string>> Properties => _props;

    public string? this[string key]
    {
        get => _props.FirstOrDefault(p => p.Key == key).Value;
        set
        {
            if (key.Length == 0 || key.Contains('=') || key.Contains('\n')) throw new ArgumentException($"bad header key '{key}'");
            if (value is not null && value.Contains('\n')) throw new ArgumentException($"header value of '{key}' has a newline");
            int i = _props.FindIndex(p => p.Key == key);
            if (value is null) { if (i >= 0) _props.RemoveAt(i); }
            else if (i >= 0) _props[i] = new(key, value);
            else _props.Add(new(key, value));
        }
    }

    /// <summary>x86_64 or arm64.</summary>
    public string Arch => this["arch"] ?? "x86_64";
    /// <summary>The base page size in bytes.</summary>
    public int PageSize => int.TryParse(this["page"], out int p) ? p : 4096;

    internal byte[] Encode() => Encoding.UTF8.GetBytes(string.Concat(_props.Select(p => $"{p.Key}={p.Value}\n")));

    internal static TraceHeader? Decode(ReadOnlySpan<byte> bytes)
    {
        var h = new TraceHeader();
        foreach (var line in Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = line.IndexOf('=');
            if (eq <= 0) return null;
            h._props.Add(new(line[..eq], line[(eq + 1)..]));
        }
        return h;
    }
}
