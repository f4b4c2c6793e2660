using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;

namespace MthpSim.Core.Khugepaged.Policies;

/// <summary>
/// Collapse designs written outside this project (<c>--policy-assembly PATH</c>): every public,
/// non-abstract class of the assembly implementing <see cref="ICollapsePolicy"/> with a public
/// parameterless constructor is registered under its <see cref="ICollapsePolicy.Name"/>, after which
/// <c>policy collapse = NAME</c>, <c>--policy NAME</c> and <c>compare</c> select it as they do the
/// shipped designs. Each simulation creates its own instance. Loading is all or nothing: an
/// assembly with one unusable design registers none of them.
/// </summary>
public static partial class PolicyAssemblies
{
    static readonly Lock Gate = new();
    /// <summary>Designs registered from assemblies so far, by name: loading the same assembly again is harmless.</summary>
    static readonly Dictionary<string, Type> Loaded = new(StringComparer.Ordinal);

    /// <summary>What a design may be called: one word of the scenario language, and no comma (compare's --policy lists).</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();

    /// <summary>Loads the assembly at <paramref name="path"/> and registers its designs; returns their names in the order of their types' full names.</summary>
    public static IReadOnlyList<string> Load(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new PolicyAssemblyException($"{path}: no such file");
        Assembly assembly;
        try { assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(full); }
        catch (BadImageFormatException) { throw new PolicyAssemblyException($"{path}: not a .NET assembly"); }
        catch (FileLoadException e) { throw new PolicyAssemblyException($"{path}: cannot be loaded: {e.Message}", e); }

        Type[] types;
        try { types = assembly.GetExportedTypes(); }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException or TypeLoadException)
        {
            throw new PolicyAssemblyException($"{path}: its types cannot be loaded (built against another MthpSim.Core?): {e.Message}", e);
        }
        var designs = types
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ICollapsePolicy).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();
        if (designs.Count == 0)
            throw new PolicyAssemblyException($"{path}: no public class implementing {nameof(ICollapsePolicy)} ({typeof(ICollapsePolicy).Namespace})");

        var found = new List<(string Name, Type Type)>();
        foreach (var t in designs)
        {
            if (t.GetConstructor(Type.EmptyTypes) == null)
                throw new PolicyAssemblyException($"{path}: {t.FullName} has no public parameterless constructor");
            string name = Create(path, t).Name;
            if (name == null || !NamePattern().IsMatch(name))
                throw new PolicyAssemblyException($"{path}: {t.FullName} is named {(name == null ? "null" : $"'{name}'")}; a design's name is letters, digits, '.', '_' and '-', starting with a letter or digit");
            if (found.Any(f => f.Name == name))
                throw new PolicyAssemblyException($"{path}: {t.FullName} and {found.First(f => f.Name == name).Type.FullName} are both named '{name}'");
            found.Add((name, t));
        }
        lock (Gate)
        {
            foreach (var (name, t) in found)
            {
                bool again = Loaded.TryGetValue(name, out var before) && before == t;
                if (!again && CollapsePolicies.Create(name) != null)
                    throw new PolicyAssemblyException($"{path}: {t.FullName} is named '{name}', which is already a collapse design{(before != null ? $" (from {before.Assembly.Location})" : "")}");
            }
            foreach (var (name, t) in found)
            {
                Loaded[name] = t;
                CollapsePolicies.Register(name, () => (ICollapsePolicy)Activator.CreateInstance(t)!);
            }
        }
        return [.. found.Select(f => f.Name)];
    }

    static ICollapsePolicy Create(string path, Type t)
    {
        try { return (ICollapsePolicy)Activator.CreateInstance(t)!; }
        catch (TargetInvocationException e) { throw new PolicyAssemblyException($"{path}: {t.FullName}'s constructor threw: {e.InnerException?.Message}", e); }
    }
}
