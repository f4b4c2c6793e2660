using System.CommandLine;
using MthpSim.Core.Khugepaged.Policies;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>--policy-assembly PATH</c> (repeatable): collapse designs of one's own, compiled against
/// MthpSim.Core (docs/collapse-policies.md, "A design of your own"), loaded before anything names a policy.
/// </summary>
internal static class PolicyAssemblyOption
{
    public static Option<string[]> Create() => new("--policy-assembly")
    {
        Description = "A .NET assembly whose public ICollapsePolicy classes become collapse policies selectable by name (repeatable; see docs/collapse-policies.md)",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Loads every assembly given; the names of their designs, or null after one line on stderr when one cannot be used.</summary>
    public static IReadOnlyList<string>? Load(System.CommandLine.ParseResult pr, Option<string[]> option, string command, TextWriter stderr)
    {
        var names = new List<string>();
        foreach (var path in pr.GetValue(option) ?? [])
        {
            try { names.AddRange(PolicyAssemblies.Load(path)); }
            catch (PolicyAssemblyException e) { stderr.WriteLine($"mthpsim {command}: --policy-assembly {Echo.Escape(e.Message)}"); return null; }
        }
        return names;
    }
}
