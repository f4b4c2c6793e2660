using System.Text.Json;
using System.Text.Json.Serialization;

namespace MthpSim.Trace.Truth;

/// <summary>
/// What the live kernel did when the program ran (truth.json next to the trace): the THP settings
/// it ran under, each process's end state, the program's exit status and the per-size counters'
/// change over the run (machine-wide, so other activity is in them too).
/// </summary>
public sealed class TruthFile
{
    public List<string> Command { get; set; } = [];
    public string Kernel { get; set; } = "";
    public SortedDictionary<string, string> Settings { get; set; } = new(StringComparer.Ordinal);
    public int? ExitStatus { get; set; }
    public int? ExitSignal { get; set; }
    public List<TruthProcess> Processes { get; set; } = [];
    public SortedDictionary<string, long> CounterDeltas { get; set; } = new(StringComparer.Ordinal);

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Options) + "\n");

    /// <summary>Reads a truth file; a file that is not one throws <see cref="InvalidDataException"/> naming it.</summary>
    public static TruthFile Load(string path)
    {
        try { return JsonSerializer.Deserialize<TruthFile>(File.ReadAllText(path), Options) ?? throw new InvalidDataException($"{path}: empty truth file"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a truth file ({e.Message})"); }
    }
}
