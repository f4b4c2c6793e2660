using MthpSim.Scenario.Runtime;

namespace MthpSim.Bench.Patterns;

/// <summary>
/// <c>scenario:FILE</c>: a whole-scenario replay of each <c>.mthp</c> file under <c>scenarios/</c>:
/// parsing and machine creation in the setup, every statement (expectations included) in the body;
/// ns per statement.
/// </summary>
internal static class ScenarioPatterns
{
    public static IEnumerable<BenchPattern> All(string? scenariosDir)
    {
        if (scenariosDir == null || !Directory.Exists(scenariosDir)) yield break;
        var root = Path.GetDirectoryName(Path.GetFullPath(scenariosDir).TrimEnd('/'))!;
        foreach (var file in Directory.EnumerateFiles(scenariosDir, "*.mthp", SearchOption.AllDirectories)
                     .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
                     .OrderBy(f => f, StringComparer.Ordinal))
        {
            string path = Path.Combine(root, file);
            yield return new BenchPattern
            {
                Name = $"scenario:{file}",
                Family = "scenario",
                Unit = "stmt",
                Description = $"replay of {file}; ns per statement",
                Prepare = () => Prepare(file, path, File.ReadAllText(path)),
            };
        }
    }

    static PreparedRun Prepare(string file, string path, string text)
    {
        var result = new RunResult { File = file };
        // parsed under its full path, so that files it names (age snapshot) resolve wherever bench runs
        var (session, statements) = ScenarioRunner.Prepare(path, text, result)
            ?? throw new InvalidOperationException($"bench: {file} is invalid: {string.Join("; ", result.Invalid)}");
        var quiet = new RunOptions();
        return new PreparedRun(session.Kernel, () =>
        {
            foreach (var stmt in statements) ScenarioRunner.Execute(session, stmt, result, quiet);
            return statements.Count;
        });
    }
}
