using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MthpSim.Sweep.Run;

namespace MthpSim.Sweep.Results;

/// <summary>
/// Where one result is: its line in a results file (or, for a result renumbered on reading, its
/// text), with what the sweep needs to know of it without holding it.
/// </summary>
public sealed record ResultLine(int Cell, string Key, string Outcome, string Source, long Offset, int Length, string? Text = null);

/// <summary>
/// A sweep's results: one JSON object per line, one line per finished cell. Lines are appended as
/// cells finish (so a killed sweep keeps what it finished), and the file is rewritten in cell order
/// when a run of it ends. Files are read a line at a time and rewritten from an index of where
/// each line is, so a sweep of any size holds its cells' keys, not their results.
/// </summary>
public static class ResultsFile
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Line(CellResult r) => JsonSerializer.Serialize(r, Json);

    /// <summary>
    /// Each result of a file with where its line is, one at a time. An unfinished last line (a sweep
    /// killed while writing it) is left out and reported in <paramref name="notes"/>; any other line
    /// that is not a result is an error with its line number.
    /// </summary>
    public static IEnumerable<(CellResult Result, ResultLine Where)> Scan(string path, List<string> notes)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var line = new MemoryStream();
        long start = 0;
        int number = 0;
        int b;
        while (true)
        {
            b = f.ReadByte();
            if (b != '\n' && b >= 0) { line.WriteByte((byte)b); continue; }
            bool terminated = b == '\n';
            if (line.Length > 0 || terminated)
            {
                number++;
                if (line.Length > 0)
                {
                    var bytes = line.ToArray();
                    CellResult? r = null;
                    try { r = JsonSerializer.Deserialize<CellResult>(bytes, Json) ?? throw new JsonException("null"); }
                    catch (JsonException e)
                    {
                        if (!terminated) notes.Add($"{path}:{number}: an unfinished line (a sweep stopped while writing it) is dropped; its cell runs again");
                        else throw new InvalidDataException($"{path}:{number}: not a sweep result ({e.Message})");
                    }
                    if (r != null) yield return (r, new ResultLine(r.Cell, r.Key, r.Outcome, path, start, bytes.Length));
                }
            }
            if (!terminated) break;
            start = f.Position;
            line.SetLength(0);
        }
    }

    /// <summary>Every result of a file (a report holds them all).</summary>
    public static List<CellResult> Read(string path, List<string> notes) => [.. Scan(path, notes).Select(s => s.Result)];

    /// <summary>The text of a result's line.</summary>
    public static string Text(ResultLine l)
    {
        if (l.Text != null) return l.Text;
        using var f = new FileStream(l.Source, FileMode.Open, FileAccess.Read, FileShare.Read);
        f.Position = l.Offset;
        var bytes = new byte[l.Length];
        f.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>
    /// Writes the lines in cell order into <paramref name="path"/>, copied from where they are (the
    /// file itself among them), replacing the file at once (never half written).
    /// </summary>
    public static void WriteOrdered(string path, IEnumerable<ResultLine> lines)
    {
        string temp = path + ".tmp";
        var sources = new Dictionary<string, FileStream>();
        try
        {
            using (var w = new FileStream(temp, FileMode.Create, FileAccess.Write))
                foreach (var l in lines.OrderBy(l => l.Cell))
                {
                    if (l.Text != null) { w.Write(Encoding.UTF8.GetBytes(l.Text)); w.WriteByte((byte)'\n'); continue; }
                    if (!sources.TryGetValue(l.Source, out var src))
                        sources[l.Source] = src = new FileStream(l.Source, FileMode.Open, FileAccess.Read, FileShare.Read);
                    src.Position = l.Offset;
                    var bytes = new byte[l.Length];
                    src.ReadExactly(bytes);
                    w.Write(bytes);
                    w.WriteByte((byte)'\n');
                }
        }
        finally { foreach (var s in sources.Values) s.Dispose(); }
        File.Move(temp, path, overwrite: true);
    }
}
