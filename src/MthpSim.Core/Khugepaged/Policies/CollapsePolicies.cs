namespace MthpSim.Core.Khugepaged.Policies;

/// <summary>The collapse designs by name. Adding one is a class and a line here.</summary>
public static class CollapsePolicies
{
    static readonly Lock Gate = new();

    // Insertion-ordered (Dictionary without removals), so Names lists the designs in this order.
    static readonly Dictionary<string, Func<ICollapsePolicy>> Factories = new(StringComparer.Ordinal)
    {
        ["pmd-only"] = () => new PmdOnlyPolicy(),
        ["mthp"] = () => new MthpPolicy(),
        ["mthp-bitmap-rfc"] = () => new BitmapRfcPolicy(),
        ["mthp-per-order-rfc"] = () => new PerOrderRfcPolicy(),
    };

    /// <summary>The designs this project ships (what `mthpsim compare` runs by default).</summary>
    public static readonly IReadOnlyList<string> BuiltIn = [.. Factories.Keys];

    /// <summary>The RFCs exactly as posted, bugs included: selectable by name, not run by default.</summary>
    public static readonly IReadOnlyList<string> AsPosted = ["mthp-bitmap-rfc-as-posted", "mthp-per-order-rfc-as-posted"];

    static CollapsePolicies()
    {
        Factories["mthp-bitmap-rfc-as-posted"] = () => new BitmapRfcPolicy(asPosted: true);
        Factories["mthp-per-order-rfc-as-posted"] = () => new PerOrderRfcPolicy(asPosted: true);
    }

    public static IReadOnlyList<string> Names { get { lock (Gate) return [.. Factories.Keys]; } }

    public static ICollapsePolicy? Create(string name)
    {
        Func<ICollapsePolicy>? f;
        lock (Gate) Factories.TryGetValue(name, out f);
        return f?.Invoke();
    }

    /// <summary>Registers another design (tests use this to show the extension point).</summary>
    public static void Register(string name, Func<ICollapsePolicy> factory) { lock (Gate) Factories[name] = factory; }
}
