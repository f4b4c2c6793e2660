using MthpSim.Bench.Patterns;

namespace MthpSim.Bench;

/// <summary>The fixed suite of issue 9, in report order.</summary>
public static class BenchSuite
{
    public static IReadOnlyList<BenchPattern> Create(BenchScale scale, string? scenariosDir) =>
    [
        .. WritePatterns.All(scale),
        .. ReadPatterns.All(scale),
        .. SparsePatterns.All(scale),
        .. RetouchPatterns.All(scale),
        .. ForkPatterns.All(scale),
        .. MunmapPatterns.All(scale),
        .. KhugepagedPatterns.All(scale),
        .. VmaPatterns.All(scale),
        .. FuzzPatterns.All(scale),
        .. ScenarioPatterns.All(scenariosDir),
        .. ReplayPatterns.All(scenariosDir),
    ];

    /// <summary>The repository's <c>scenarios/</c>: searched upwards from the working directory, then from the program's.</summary>
    public static string? FindScenariosDir()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string s = Path.Combine(dir.FullName, "scenarios");
                if (Directory.Exists(s) && File.Exists(Path.Combine(dir.FullName, "MthpSim.slnx"))) return s;
            }
        return null;
    }
}
