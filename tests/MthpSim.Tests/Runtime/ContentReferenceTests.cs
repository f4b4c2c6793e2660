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

    /// <summary>
    /// The comparison takes each block's expectation at once (<c>WantRun</c>) before it looks page by
    /// page: on machines the fuzzer built with shared and private file mappings, after every
    /// statement, the block must say what each page's own expectation says.
    /// </summary>
    [Fact]
    public void A_block_of_expectations_says_what_each_page_says()
    {
        long pages = 0;
        for (ulong seed = 1; seed <= 12; seed++)
        {
            var reference = new ContentReference();
            GeneratedEpisode.Run(0xB10C + seed, 150, MthpSim.Scenario.Fuzz.GeneratorProfile.Simulator,
                before: reference.Before,
                after: (session, stmt) =>
                {
                    Assert.Null(reference.After(session, stmt));
                    Assert.Null(reference.FirstWantRunDisagreement(out long compared));
                    pages += compared;
                });
        }
        Assert.True(pages > 10_000, $"only {pages} file-mapped pages compared");
    }

    [Fact]
    public void Free_reclaim_and_mremap_keep_the_record_in_step_with_the_model()
    {
        var r = ScenarioRunner.RunText("t.mthp", "process p\np mmap a any 64K\np write a 0 8K\np write a 4K 8K\np mremap a any 128K\np madvise a 0 4K free\nreclaim\nexpect p intact a == 1\n",
            new RunOptions { CheckInvariants = true });
        Assert.True(r.Passed, r.Aborted);
    }

    /// <summary>
    /// Found by the fuzzer on arm64 with 64K pages: mremap_to() unmaps the destination and cuts a
    /// shrink's tail before it moves the range, and the move can fail for want of a page table; the
    /// harness took the failed call for one that changed nothing.
    /// </summary>
    const string MremapToFailsAfterTheShrink = """
        machine memory=2G page=64K arch=arm64 swap=512M swapdev=file
        sysfs hugepages-4096kB/enabled = always
        sysfs hugepages-131072kB/enabled = always
        process p0
        p0 mmap r2 any 1073741824 rw
        p0 read r2 0 536870912
        memfd f0 65536
        process p4
        p4 mmap r11 any 1048576 rw shared memfd:f0+14352384
        p4 mmap r12 any 1073741824 rw
        p4 mmap r16 any 1073741824 rw
        p4 write r16 371261440 702480384
        p4 fork p6
        reclaim
        p6 fork p8
        p6 fork p9
        p9 fork p10
        pwrite f0 37224548 805306368
        p10 read r11 0 1048576
        p8 write r12 566231040 65536 step=64K
        p9 fork p12
        p8 fork p14
        fallocate f0 alloc 0 4194304
        p12 write r11 983040 65536
        p12 write r12 937820160 65536
        p12 mmap r28 any 8388608 rw
        p14 write r12 920649728 15269888
        p12 mremap r28 0xc0010000 4194304
        expect rc == -ENOMEM
        expect p12 smaps r28 Size == 4096kB
        """;


    /// <summary>Found by the fuzzer on arm64 with 64K pages: MREMAP_FIXED onto part of a shared mapping replaces it, so the page there is the moved one, not the file's.</summary>
    const string MremapOntoASharedMapping = """
        machine memory=2G page=64K arch=arm64 swap=512M swapdev=zram
        process p0
        p0 mmap r3 0x40200000 1073741824 rw shared anon
        p0 fork p2
        p2 mmap r6 any 131072 rw
        p2 fork p9
        p9 write r6 0 65536
        p9 fork p17
        p17 mremap r6 0x60000000 65536
        expect p17 intact r6 == 1
        expect p17 intact r3 == 1
        """;

    /// <summary>
    /// Found by the fuzzer (seed 151, 300,000 operations): a same-length mremap of a region that now
    /// names the first half of a file mapping changes nothing, but the record cut and re-added that
    /// half, so its list of file ranges was out of address order; growing the mapping in place then
    /// took the wrong range for the last one, and the grown tail for anonymous zeroes.
    /// </summary>
    const string MremapGrowsAFileMappingInPlace = """
        process p
        tmpfs m
        file f on m 4M
        pwrite f 0 4M
        p mmap x 0x40000000 1M rw
        p mmap a any 512K rw shared file:f
        p mremap a 0x40000000 2M
        p mremap x any 1M
        expect rc == 0x40000000
        p mremap a any 3M
        expect rc == 0x40000000
        expect p intact a == 1
        """;

    /// <summary>
    /// Found by the fuzzer (seed 176, episodes of 2,000 operations, arm64 with 16K pages): GUP for
    /// write over a private file mapping whose missing pages a userfaultfd handler filled with the
    /// zero page copies the zero page (do_wp_page()), and a punch hole keeps that copy; the harness
    /// kept the page as the zero page, which a punch takes, so it then read the file.
    /// </summary>
    /// <summary>A fork by a process the OOM killer took creates nothing: its child's statements fail with -ESRCH (found replaying a fuzz episode on a later model).</summary>
    const string StatementOfAChildNeverForked = """
        process p
        cgroup g limit=1M
        p cgroup g
        p mmap a any 4M rw
        p write a 0 4M
        expect p alive == 0
        p fork c
        expect rc == -ESRCH
        c write a 0 4K
        expect rc == -ESRCH
        """;

    const string WriteOverAUserfaultfdZeroPage = """
        process p
        memfd f 2M
        p mmap a any 1M rw private file:f
        p uffd register a 0 1M missing handler=zeropage
        p madvise a 0 64K populate_write
        expect rc == 0
        fallocate f punch 0 2M
        p mmap s any 1M rw shared file:f
        p write s 0 64K
        expect p intact a == 1
        """;

    /// <summary>
    /// What a fixed mremap leaves when it fails after cutting its tail, what it replaces of a shared
    /// mapping, a file mapping grown in place, a write over the zero page of a private file
    /// mapping, and a statement of a child whose fork never happened: the record agrees with the model.
    /// </summary>
    [Theory]
    [InlineData(MremapToFailsAfterTheShrink)]
    [InlineData(MremapOntoASharedMapping)]
    [InlineData(MremapGrowsAFileMappingInPlace)]
    [InlineData(WriteOverAUserfaultfdZeroPage)]
    [InlineData(StatementOfAChildNeverForked)]
    public void The_record_follows_what_the_model_found_by_fuzzing_does(string scenario)
    {
        var (differs, expectsHold, violations) = RunWith(InjectedFault.None, scenario);
        Assert.Null(differs);
        Assert.True(expectsHold);
        Assert.Equal(0, violations);
    }
}
