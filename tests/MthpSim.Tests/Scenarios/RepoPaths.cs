namespace MthpSim.Tests.Scenarios;

/// <summary>Locates the repository from the test assembly's directory.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MthpSim.slnx"))) return dir.FullName;
        throw new InvalidOperationException("repository root (MthpSim.slnx) not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Scenario files below the given repository folders, as repository-relative paths, sorted.</summary>
    public static IEnumerable<string> ScenarioFiles(params string[] folders) =>
        folders.SelectMany(f => Directory.EnumerateFiles(Path.Combine(Root, f), "*.mthp", SearchOption.AllDirectories))
               .Select(p => Path.GetRelativePath(Root, p).Replace('\\', '/'))
               .OrderBy(p => p, StringComparer.Ordinal);
}
