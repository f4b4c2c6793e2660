using System.Text.Json;
using System.Text.Json.Serialization;
using MthpSim.Sweep.Run;

namespace MthpSim.Sweep.Results;

/// <summary>
/// A sweep's results: one JSON object per line, one line per finished cell. Lines are appended as
/// cells finish (so a killed sweep keeps what it finished) and the file is rewritten in cell order
/// when a run of it ends.
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
    /// The results in a file; an unfinished last line (a sweep killed while writing it) is dropped
    /// and reported in <paramref name="notes"/>. Any other line that is not a result is an error.
    /// </summary>
    public static List<CellResult> Read(string path, List<string> notes)
    {
        var results = new List<CellResult>();
        string text = File.ReadAllText(path);
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.Length == 0) continue;
            bool last = i == lines.Length - 1;   // no newline after it: it was being written
            try
            {
                results.Add(JsonSerializer.Deserialize<CellResult>(line, Json) ?? throw new JsonException("null"));
                if (last) notes.Add($"{path}:{i + 1}: the last line has no line end; kept, since it is a whole result");
            }
            catch (JsonException e)
            {
                if (last) { notes.Add($"{path}:{i + 1}: an unfinished line (a sweep stopped while writing it) is dropped; its cell runs again"); continue; }
                throw new InvalidDataException($"{path}:{i + 1}: not a sweep result ({e.Message})");
            }
        }
        return results;
    }

    /// <summary>Writes the results in cell order, replacing the file at once (never half written).</summary>
    public static void Write(string path, IEnumerable<CellResult> results)
    {
        string temp = path + ".tmp";
        using (var w = new StreamWriter(temp, append: false))
            foreach (var r in results.OrderBy(r => r.Cell)) w.Write(Line(r) + "\n");
        File.Move(temp, path, overwrite: true);
    }
}
