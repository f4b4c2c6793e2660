using MthpSim.Core.Khugepaged.Policies;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Core;

/// <summary>
/// The seed thread's experiments. Each workload, scenarios/policies/W.mthp, sets no policy (so
/// `mthpsim compare` can run it under each design); scenarios/policies/W/POLICY.mthp runs the same
/// statements under one design and states that design's outcome (run by ScenarioFileTests). What
/// no scenario observable can state is asserted here: the scan cost and the creep and bloat
/// figures `mthpsim compare` reports (docs/collapse-policies.md).
/// </summary>
public class CollapsePolicyExperimentTests
{
    const string Dir = "scenarios/policies";

    static List<string> WorkloadNames() =>
        Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, Dir), "*.mthp").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList()!;

    public static TheoryData<string> Workloads() => new(WorkloadNames());

    static IReadOnlyList<Statement> Parse(string relPath)
    {
        var parsed = ScenarioParser.Parse(relPath, File.ReadAllText(Path.Combine(RepoPaths.Root, relPath)));
        Assert.True(parsed.Success, string.Join("\n", parsed.Errors));
        return parsed.Statements;
    }

    /// <summary>What the machine does: every statement but checks, output and the policy choice.</summary>
    static List<string> Actions(IReadOnlyList<Statement> statements) =>
        statements.Where(s => s is not (ExpectStmt or PrintStmt or PolicyStmt)).Select(s => s.Text).ToList();

    [Fact]
    public void There_are_the_seven_workloads_of_the_thread_and_four_of_memory_pressure()
    {
        var names = WorkloadNames();
        Assert.Equal(11, names.Count);
        Assert.Subset(names.ToHashSet(), new HashSet<string> { "fork-shared-8-of-16", "swap-pte-none-0", "cgroup-limit-2m", "fragmented-no-2m" });
    }

    /// <summary>A per-policy file that drifted from its workload would state outcomes `compare` no longer shows.</summary>
    [Theory]
    [MemberData(nameof(Workloads))]
    public void Each_design_has_a_file_that_runs_the_workload_statement_for_statement(string workload)
    {
        var neutral = Parse($"{Dir}/{workload}.mthp");
        Assert.DoesNotContain(neutral, s => s is PolicyStmt);   // compare refuses a file that sets a policy
        string dir = Path.Combine(RepoPaths.Root, Dir, workload);
        Assert.Equal(CollapsePolicies.BuiltIn.Select(p => p + ".mthp").Order(StringComparer.Ordinal),
            Directory.EnumerateFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var policy in CollapsePolicies.BuiltIn)
        {
            var own = Parse($"{Dir}/{workload}/{policy}.mthp");
            Assert.Equal(policy, Assert.Single(own.OfType<PolicyStmt>()).Value);
            Assert.Equal(Actions(neutral), Actions(own));
            Assert.True(own.OfType<ExpectStmt>().Count() > neutral.OfType<ExpectStmt>().Count(), $"{workload}/{policy}.mthp states no outcome of its own");
        }
    }

    [Fact]
    public void Every_folder_under_policies_is_a_workload()
    {
        var folders = Directory.EnumerateDirectories(Path.Combine(RepoPaths.Root, Dir)).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(WorkloadNames(), folders);
    }

    static RunResult Run(string workload, string policy)
    {
        var r = ScenarioRunner.RunFile(Path.Combine(RepoPaths.Root, Dir, workload + ".mthp"), new RunOptions { Policy = policy, CheckInvariants = true });
        Assert.True(r.Passed, string.Join("\n", r.Invalid) + r.Aborted + string.Join("\n", r.Failures.Select(f => f.Describe())));
        return r;
    }

    [Theory]
    [InlineData("pmd-only", 512)]
    [InlineData("mthp", 512)]
    [InlineData("mthp-bitmap-rfc", 512)]
    [InlineData("mthp-per-order-rfc", 4096)]   // "512 * 8 = 4096" with all eight orders enabled
    public void Scan_cost_per_PMD_window(string policy, long ptes)
    {
        var m = Run("scan-cost-no-young", policy).CollapseMetrics!;
        Assert.Equal(1, m.PmdWindows);
        Assert.Equal(ptes, m.PtesExamined);
    }

    /// <summary>The creep the per-policy files show step by step (128K, 512K, 2M; 64K, 256K, 1M, 2M; 16K), as compare counts it.</summary>
    [Theory]
    [InlineData("creep-384", "pmd-only", 0, 0, 0)]
    [InlineData("creep-384", "mthp", 1, 0, 0)]
    [InlineData("creep-384", "mthp-bitmap-rfc", 3, 2, 2032)]
    [InlineData("creep-384", "mthp-per-order-rfc", 4, 3, 2032)]
    [InlineData("nico-pache-8-of-16", "mthp-bitmap-rfc", 2, 512, 16384)]      // each of 16 PMDs swallows 32 64K folios
    [InlineData("nico-pache-8-of-16-with-32k", "mthp-per-order-rfc", 1, 0, 0)]
    public void Creep_and_bloat_as_compare_reports_them(string workload, string policy, int chain, long creepEvents, long bloatKb)
    {
        var m = Run(workload, policy).CollapseMetrics!;
        Assert.Equal(chain, m.LongestCreepChain);
        Assert.Equal(creepEvents, m.CreepEvents);
        Assert.Equal(bloatKb, m.BloatBytes >> 10);
    }

    /// <summary>
    /// Under memory pressure: the collapse attempts (allocations) each design makes for what it
    /// collapses, as compare's "attempts" column shows them (an attempt that fails after allocating
    /// is work wasted).
    /// </summary>
    [Theory]
    [InlineData("fork-shared-8-of-16", "pmd-only", 0, 0, 0)]
    [InlineData("fork-shared-8-of-16", "mthp", 384, 3, 64)]              // every 64K attempt fails on the shared half
    [InlineData("fork-shared-8-of-16", "mthp-bitmap-rfc", 0, 0, 0)]
    [InlineData("fork-shared-8-of-16", "mthp-per-order-rfc", 64, 4, 64)] // copies the shared pages
    [InlineData("swap-pte-none-0", "pmd-only", 1, 9, 1)]
    [InlineData("swap-pte-none-0", "mthp", 62, 4, 31)]
    [InlineData("swap-pte-none-0", "mthp-bitmap-rfc", 62, 4, 31)]
    [InlineData("swap-pte-none-0", "mthp-per-order-rfc", 1, 9, 1)]
    [InlineData("cgroup-limit-2m", "pmd-only", 2, 9, 0)]
    [InlineData("cgroup-limit-2m", "mthp", 2, 9, 0)]                      // the charge failure ends the window
    [InlineData("cgroup-limit-2m", "mthp-bitmap-rfc", 66, 4, 32)]
    [InlineData("cgroup-limit-2m", "mthp-per-order-rfc", 34, 4, 32)]
    [InlineData("fragmented-no-2m", "pmd-only", 1, 9, 0)]
    [InlineData("fragmented-no-2m", "mthp", 33, 4, 32)]                    // an allocation failure retries a lower order
    [InlineData("fragmented-no-2m", "mthp-bitmap-rfc", 33, 4, 32)]
    [InlineData("fragmented-no-2m", "mthp-per-order-rfc", 33, 4, 32)]
    public void Attempts_and_collapses_under_memory_pressure(string workload, string policy, long attempts, int order, long collapses)
    {
        var m = Run(workload, policy).CollapseMetrics!;
        Assert.Equal(attempts, m.CollapseAttempts);
        Assert.Equal(collapses, m.Collapses[order]);
        Assert.Equal(collapses, m.Collapses.Sum());
    }
}
