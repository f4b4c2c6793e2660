namespace MthpSim.Core.Cost;

/// <summary>The names scenarios and reports use for the values of an enum numbered from 0 in order.</summary>
internal sealed class NameTable<T>(string[] names) where T : struct, Enum
{
    public int Count => names.Length;

    public IReadOnlyList<string> All => names;

    public string Name(T value) => names[Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)];

    public bool TryParse(string name, out T value)
    {
        int i = Array.IndexOf(names, name);
        value = (T)Enum.ToObject(typeof(T), Math.Max(i, 0));
        return i >= 0;
    }
}
