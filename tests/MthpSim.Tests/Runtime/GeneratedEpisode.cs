using MthpSim.Scenario.Fuzz;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Tests.Runtime;

/// <summary>
/// A generated episode's statements run on a fresh session without the fuzzer's own checks (a
/// statement that fails at run time is left failed), with an optional look before and after each.
/// </summary>
internal static class GeneratedEpisode
{
    public static ScenarioSession Run(ulong seed, int steps, GeneratorProfile profile,
        Action<ScenarioSession, Statement>? before = null, Action<ScenarioSession, Statement>? after = null)
    {
        var gen = new ScenarioGenerator(seed, profile);
        var parser = ScenarioParser.Incremental("fuzz.mthp");
        var result = new RunResult { File = "fuzz.mthp" };
        var prologue = gen.Prologue().ToList();
        var session = ScenarioRunner.Prepare("fuzz.mthp", prologue[0] + "\n", result)!.Value.Session;
        var quiet = new RunOptions();
        void Step(string line)
        {
            var (stmt, err) = parser.ParseNext(line);
            Assert.Null(err);
            if (stmt == null) return;
            before?.Invoke(session, stmt);
            try { ScenarioRunner.Execute(session, stmt, result, quiet); }
            catch (ScenarioRuntimeException) { }
            after?.Invoke(session, stmt);
        }
        foreach (var line in prologue) Step(line);
        gen.OnPrologueRun();
        for (int i = 0; i < steps; i++)
        {
            string line = gen.Next(session);
            gen.BeforeRun(line);
            Step(line);
            gen.Observe(session);
        }
        return session;
    }
}
