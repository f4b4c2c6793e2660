namespace MthpSim.Core.Khugepaged.Policies;

/// <summary>The collapse designs by name. Adding one is a class and a line here.</summary>
public static class CollapsePolicies
{
    static readonly Dictionary<string, Func<ICollapsePolicy>> Factories = new(StringComparer.Ordinal)
    {
        ["pmd-only"] = () => new PmdOnlyPolicy(),
        ["mthp"] = () => new MthpPolicy(),
        ["mthp-bitmap-rfc"] = () => new BitmapRfcPolicy(),
        ["mthp-per-order-rfc"] = () => new PerOrderRfcPolicy(),
    };

    public static IEnumerable<string> Names => Factories.Keys;

    public static ICollapsePolicy? Create(string name) => Factories.TryGetValue(name, out var f) ? f() : null;

    /// <summary>Registers another design (tests use this to show the extension point).</summary>
    public static void Register(string name, Func<ICollapsePolicy> factory) => Factories[name] = factory;
}
