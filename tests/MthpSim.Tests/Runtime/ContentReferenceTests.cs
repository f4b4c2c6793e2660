using MthpSim.Core;
using MthpSim.Core.Debug;
using MthpSim.Scenario.Reference;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Tests.Runtime;

/// <summary>
/// The harness's own record of page contents catches a bug that moves or drops a mapping together
/// with the model's own expected-content record, which neither <c>intact</c> nor the invariant checker can.
/// </summary>
public class ContentReferenceTests
{
    const string Zap = """
        process p
        p mmap a 0x40000000 64K
        p write a 0 64K
        p madvise a 0 16K dontneed
        expect p intact a == 1
        """;

    const string Mremap = """
        process p
        p mmap a 0x40000000 64K
        p write a 0 64K
        p mremap a 0x50010000 64K
        expect rc == 0x50010000
        expect p intact a == 1
        """;

    /// <summary>Runs a scenario with a bug switched on: what the reference says, whether every expect held, how many invariant violations.</summary>
    static (string? ReferenceSays, bool ExpectsHold, int Violations) RunWith(InjectedFault fault, string text)
    {
        var result = new RunResult { File = "t.mthp" };
        var (session, statements) = ScenarioRunner.Prepare("t.mthp", text, result)!.Value;
        session.Kernel.InjectedFaults = fault;
        var reference = new ContentReference();
        var checker = new InvariantChecker();
        string? differs = null;
        int violations = 0;
        foreach (var stmt in statements)
        {
            reference.Before(session, stmt);
            ScenarioRunner.Execute(session, stmt, result, new RunOptions());
            violations += checker.Run(session.Kernel).Count;
            differs ??= reference.After(session, stmt);
        }
        return (differs, result.Expectations.All(e => e.Passed), violations);
    }

    [Theory]
    [InlineData(Zap, (int)InjectedFault.ZapOnePageTooMany, "process p reads zeroes at 0x40004000, but must read store #5")]
    [InlineData(Mremap, (int)InjectedFault.MremapSwapsTwoPtes, "process p reads store #2 at 0x50010000, but must read store #1")]
    public void A_bug_that_takes_the_models_own_record_along_is_caught(string scenario, int fault, string report)
    {
        var (clean, cleanExpects, cleanViolations) = RunWith(InjectedFault.None, scenario);
        Assert.Null(clean);
        Assert.True(cleanExpects);
        Assert.Equal(0, cleanViolations);

        var (says, expects, violations) = RunWith((InjectedFault)fault, scenario);
        // The model's own checks see nothing wrong ...
        Assert.True(expects, "intact should not notice: the injected bug moves the model's record with the mapping");
        Assert.Equal(0, violations);
        // ... the independent record does.
        Assert.Equal(report, says);
    }

    [Fact]
    public void Free_reclaim_and_mremap_keep_the_record_in_step_with_the_model()
    {
        var r = ScenarioRunner.RunText("t.mthp", "process p\np mmap a any 64K\np write a 0 8K\np write a 4K 8K\np mremap a any 128K\np madvise a 0 4K free\nreclaim\nexpect p intact a == 1\n",
            new RunOptions { CheckInvariants = true });
        Assert.True(r.Passed, r.Aborted);
    }
}
