using MthpSim.Scenario.Syntax;
using Xunit;
using static MthpSim.Tests.Syntax.SyntaxTestHelpers;

namespace MthpSim.Tests.Syntax;

/// <summary>Every statement form of the spec parses to the right record.</summary>
public class StatementFormTests
{
    // A process p with regions buf and sh, and a memfd f, for the operation forms.
    private const string Setup = "process p\np mmap buf any 4M\nmemfd f 2M\np mmap sh any 2M shared memfd:f\n";

    private static T Op<T>(string line) where T : Statement => Last<T>(Setup + line);

    [Fact]
    public void MachineWithAllKeys()
    {
        var m = Last<MachineStmt>("machine memory=8G page=64K arch=arm64 swap=1G seed=18446744073709551615");
        Assert.Equal(new MachineStmt(At(1, 1), m.Text, 8L << 30, 65536, "arm64", 1L << 30, ulong.MaxValue), m);
    }

    [Fact]
    public void MachineWithoutKeysLeavesDefaultsToTheRunner()
    {
        var m = Last<MachineStmt>("machine");
        Assert.Equal(new MachineStmt(At(1, 1), "machine", null, null, null, null, null), m);
    }

    [Theory]
    [InlineData("page=4K", 4096)]
    [InlineData("page=16K", 16384)]
    [InlineData("page=65536", 65536)]
    public void MachinePageSizes(string arg, long page) =>
        Assert.Equal(page, Last<MachineStmt>("machine " + arg).PageSize);

    [Fact]
    public void MachineAfterCommentsAndBlankLinesIsStillFirst() =>
        Assert.Single(Ok("# header\n\n   \nmachine swap=0\nprocess p"), s => s is MachineStmt { Swap: 0 });

    [Fact]
    public void SysfsValueIsTheRestOfTheLine()
    {
        var s = Last<SysfsWriteStmt>("sysfs khugepaged/max_ptes_none =   0");
        Assert.Equal(("khugepaged/max_ptes_none", "0"), (s.Path, s.Value));
        var multi = Last<SysfsWriteStmt>("sysfs enabled = always\tmadvise  never  # c");
        Assert.Equal("always madvise never", multi.Value);
        Assert.Equal("sysfs enabled = always\tmadvise  never", multi.Text);
    }

    [Theory]
    [InlineData("pmd-only")]
    [InlineData("mthp")]
    [InlineData("mthp-bitmap-rfc")]
    [InlineData("mthp-per-order-rfc")]
    public void Policy(string name) =>
        Assert.Equal(new PolicyStmt(At(1, 1), $"policy collapse = {name}", "collapse", name), Last<PolicyStmt>($"policy collapse = {name}"));

    [Fact]
    public void Process() => Assert.Equal(new ProcessStmt(At(1, 1), "process worker_1", "worker_1"), Last<ProcessStmt>("process worker_1"));

    [Fact]
    public void MmapDefaultsArePrivateAnonReadWrite()
    {
        var m = Op<MmapStmt>("p mmap a 0x40000000 2M");
        Assert.Equal(("p", "a", (long?)0x40000000, 2L << 20, Prot.ReadWrite, false, (string?)null, 0L),
            (m.Process, m.Region, m.Addr, m.Length, m.Prot, m.Shared, m.File, m.FileOffset));
    }

    [Theory]
    [InlineData("p mmap a any 4K r", null, Prot.Read, false, null, 0L)]
    [InlineData("p mmap a any 4K none shared anon", null, Prot.None, true, null, 0L)]
    [InlineData("p mmap a 0x1000 4K shared", 0x1000L, Prot.ReadWrite, true, null, 0L)]
    [InlineData("p mmap a any 4K memfd:f+2M shared r", null, Prot.Read, true, "f", 2L << 20)]
    [InlineData("p mmap a any 4K private memfd:f", null, Prot.ReadWrite, false, "f", 0L)]
    [InlineData("p mmap a any 4K memfd:f+0", null, Prot.ReadWrite, false, "f", 0L)]
    public void MmapOptionalWordsInAnyOrder(string line, long? addr, Prot prot, bool shared, string? file, long offset)
    {
        var m = Op<MmapStmt>(line);
        Assert.Equal((addr, 4096L, prot, shared, file, offset), (m.Addr, m.Length, m.Prot, m.Shared, m.File, m.FileOffset));
    }

    [Fact]
    public void MmapMayRebindARegionNameAfterAWholeMunmap() =>
        Assert.Equal(3, Ok(Setup + "p munmap buf\np mmap buf 0x1000 4K\np munmap buf\np mmap buf any 2M\np write buf 0 4K").OfType<MmapStmt>().Count(m => m.Region == "buf"));

    [Fact]
    public void Munmap()
    {
        Assert.Equal(new MunmapStmt(At(5, 1), "p munmap buf", "p", "buf", null, null), Op<MunmapStmt>("p munmap buf"));
        Assert.Equal(new MunmapStmt(At(5, 1), "p munmap buf 4K 8K", "p", "buf", 4096, 8192), Op<MunmapStmt>("p munmap buf 4K 8K"));
    }

    [Fact]
    public void RegionsStayValidAfterMunmap() => Op<AccessStmt>("p munmap buf\np read buf 0 4K");

    [Theory]
    [InlineData("none", Prot.None)]
    [InlineData("r", Prot.Read)]
    [InlineData("rw", Prot.ReadWrite)]
    public void Mprotect(string word, Prot prot) =>
        Assert.Equal(new MprotectStmt(At(5, 1), $"p mprotect buf 0 2M {word}", "p", "buf", 0, 2 << 20, prot),
            Op<MprotectStmt>($"p mprotect buf 0 2M {word}"));

    [Theory]
    [InlineData("hugepage", Advice.Hugepage)]
    [InlineData("nohugepage", Advice.Nohugepage)]
    [InlineData("dontneed", Advice.Dontneed)]
    [InlineData("free", Advice.Free)]
    [InlineData("collapse", Advice.Collapse)]
    [InlineData("populate_read", Advice.PopulateRead)]
    [InlineData("populate_write", Advice.PopulateWrite)]
    [InlineData("pageout", Advice.Pageout)]
    [InlineData("cold", Advice.Cold)]
    public void Madvise(string word, Advice advice) =>
        Assert.Equal(new MadviseStmt(At(5, 1), $"p madvise buf 64K 2M {word}", "p", "buf", 65536, 2 << 20, advice),
            Op<MadviseStmt>($"p madvise buf 64K 2M {word}"));

    [Theory]
    [InlineData("p read buf 0 4M", false, null, null)]
    [InlineData("p write buf 0 4M step=64K", true, 65536L, null)]
    [InlineData("p write buf 0 4M each=8K step=64K", true, 65536L, 8192L)]
    [InlineData("p read buf 0 4M step=4096 each=1", false, 4096L, 1L)]
    public void ReadAndWrite(string line, bool isWrite, long? step, long? each)
    {
        var a = Op<AccessStmt>(line);
        Assert.Equal(("p", "buf", isWrite, 0L, 4L << 20, step, each), (a.Process, a.Region, a.IsWrite, a.Offset, a.Length, a.Step, a.Each));
    }

    [Fact]
    public void Mremap()
    {
        Assert.Equal(new MremapStmt(At(5, 1), "p mremap buf any 8M", "p", "buf", null, 8 << 20), Op<MremapStmt>("p mremap buf any 8M"));
        Assert.Equal(0x80000000L, Op<MremapStmt>("p mremap buf 0x80000000 4M").NewAddr);
    }

    [Fact]
    public void ForkInheritsRegionsAtThatPoint()
    {
        var s = Ok(Setup + "p fork c\nc write buf 0 4K\nc write sh 0 4K\np mmap later any 4K\nc fork d\nd read buf 0 4K");
        Assert.Contains(new ForkStmt(At(5, 1), "p fork c", "p", "c"), s);
        Assert.Equal(2, s.OfType<AccessStmt>().Count(a => a.Process == "c"));
        // 'later' was mapped in p after the fork, so c does not know it.
        var e = OneError(Setup + "p fork c\np mmap later any 4K\nc read later 0 4K");
        Assert.Equal((7, 8, "unknown region 'later' of process 'c'"), (e.Line, e.Column, e.Message));
    }

    [Fact]
    public void Exit() => Assert.Equal(new ExitStmt(At(5, 1), "p exit", "p"), Op<ExitStmt>("p exit"));

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1", 1L)]
    public void Prctl(string value, long expected) =>
        Assert.Equal(new PrctlStmt(At(5, 1), $"p prctl thp_disable {value}", "p", "thp_disable", expected),
            Op<PrctlStmt>($"p prctl thp_disable {value}"));

    [Fact]
    public void PinAndUnpin()
    {
        Assert.Equal(new PinStmt(At(5, 1), "p pin buf 0 2M", "p", "buf", 0, 2 << 20, true), Op<PinStmt>("p pin buf 0 2M"));
        Assert.Equal(new PinStmt(At(5, 1), "p unpin buf 4K 4K", "p", "buf", 4096, 4096, false), Op<PinStmt>("p unpin buf 4K 4K"));
    }

    [Fact]
    public void FileStatements()
    {
        var s = Ok("memfd shm.1 2M\nftruncate shm.1 0\nftruncate shm.1 4M\nfallocate shm.1 punch 0 64K\nfallocate shm.1 alloc 2M 2M\nlseek shm.1 data 0\nlseek shm.1 hole 4K");
        Assert.Equal(new Statement[]
        {
            new MemfdStmt(At(1, 1), "memfd shm.1 2M", "shm.1", 2 << 20),
            new FtruncateStmt(At(2, 1), "ftruncate shm.1 0", "shm.1", 0),
            new FtruncateStmt(At(3, 1), "ftruncate shm.1 4M", "shm.1", 4 << 20),
            new FallocateStmt(At(4, 1), "fallocate shm.1 punch 0 64K", "shm.1", true, 0, 65536),
            new FallocateStmt(At(5, 1), "fallocate shm.1 alloc 2M 2M", "shm.1", false, 2 << 20, 2 << 20),
            new LseekStmt(At(6, 1), "lseek shm.1 data 0", "shm.1", true, 0),
            new LseekStmt(At(7, 1), "lseek shm.1 hole 4K", "shm.1", false, 4096),
        }, s);
    }

    [Fact]
    public void TimeStatements()
    {
        var s = Ok("sleep 500ms\nsleep 10s\nsleep 2m\nkhugepaged scan\nkhugepaged scan 3\nkhugepaged full-scans 2");
        Assert.Equal(new Statement[]
        {
            new SleepStmt(At(1, 1), "sleep 500ms", 500),
            new SleepStmt(At(2, 1), "sleep 10s", 10_000),
            new SleepStmt(At(3, 1), "sleep 2m", 120_000),
            new KhugepagedScanStmt(At(4, 1), "khugepaged scan", null),
            new KhugepagedScanStmt(At(5, 1), "khugepaged scan 3", 3),
            new KhugepagedFullScansStmt(At(6, 1), "khugepaged full-scans 2", 2),
        }, s);
    }

    [Theory]
    [InlineData("==", CompareOp.Eq)]
    [InlineData("!=", CompareOp.Ne)]
    [InlineData("<", CompareOp.Lt)]
    [InlineData("<=", CompareOp.Le)]
    [InlineData(">", CompareOp.Gt)]
    [InlineData(">=", CompareOp.Ge)]
    public void ExpectOperators(string op, CompareOp expected) =>
        Assert.Equal(expected, Last<ExpectStmt>($"expect rc {op} 0").Op);

    [Fact]
    public void ExpectOperands()
    {
        Assert.Equal(new NumberOperand(-22, false), Last<ExpectStmt>("expect rc == -EINVAL").Rhs);
        Assert.Equal(new NumberOperand(-1, false), Last<ExpectStmt>("expect rc == -1").Rhs);
        Assert.Equal(new NumberOperand(2 << 20, true), Last<ExpectStmt>("expect rc == 2M").Rhs);
        Assert.Equal(new NumberOperand(2176 << 10, true), Last<ExpectStmt>("expect rc == 2176kB").Rhs);
        Assert.Equal(new NumberOperand(0x1000, false), Last<ExpectStmt>("expect rc == 0x1000").Rhs);
        Assert.Equal(new WordOperand("always"), Last<ExpectStmt>("expect sysfs enabled == always").Rhs);
        Assert.Equal(new WordOperand("never"), Last<ExpectStmt>("expect sysfs enabled != never").Rhs);
    }

    [Fact]
    public void EveryObservableForm()
    {
        var s = Ok(Setup + """
            expect rc == 0
            expect sysfs khugepaged/full_scans >= 1
            expect vmstat thp_fault_alloc > 0
            expect meminfo AnonHugePages == 2048kB
            expect p smaps buf THPeligible == 1
            expect p thpmaps buf anon-thp-pmd-aligned-2048kB == 2M
            expect p folio buf 0x200000 order == 9
            expect p folio buf 4K kind == hugezero
            expect p intact sh == 1
            """).OfType<ExpectStmt>().Select(e => e.Lhs).ToList();
        Assert.Equal(new Observable[]
        {
            new RcObs(At(5, 8)),
            new SysfsObs(At(6, 8), "khugepaged/full_scans", At(6, 14)),
            new VmstatObs(At(7, 8), "thp_fault_alloc", At(7, 15)),
            new MeminfoObs(At(8, 8), "AnonHugePages", At(8, 16)),
            new SmapsObs(At(9, 8), "p", "buf", "THPeligible", At(9, 20)),
            new ThpmapsObs(At(10, 8), "p", "buf", "anon-thp-pmd-aligned-2048kB", At(10, 22)),
            new FolioObs(At(11, 8), "p", "buf", 0x200000, FolioAttr.Order),
            new FolioObs(At(12, 8), "p", "buf", 4096, FolioAttr.Kind),
            new IntactObs(At(13, 8), "p", "sh"),
        }, s);
        Assert.Equal(
            ["rc", "sysfs khugepaged/full_scans", "vmstat thp_fault_alloc", "meminfo AnonHugePages", "p smaps buf THPeligible",
             "p thpmaps buf anon-thp-pmd-aligned-2048kB", "p folio buf 2M order", "p folio buf 4K kind", "p intact sh"],
            s.Select(o => o.ToString()));
    }

    [Theory]
    [InlineData("print stats", ViewKind.Stats, null, null)]
    [InlineData("print vmstat", ViewKind.Vmstat, null, null)]
    [InlineData("print sysfs", ViewKind.Sysfs, null, null)]
    [InlineData("print khugepaged trace", ViewKind.KhugepagedTrace, null, null)]
    [InlineData("print p smaps", ViewKind.Smaps, "p", null)]
    [InlineData("print p smaps buf", ViewKind.Smaps, "p", "buf")]
    [InlineData("print p thpmaps", ViewKind.Thpmaps, "p", null)]
    [InlineData("print p thpmaps sh", ViewKind.Thpmaps, "p", "sh")]
    public void PrintViews(string line, ViewKind kind, string? process, string? region) =>
        Assert.Equal(new PrintView(kind, process, region), Op<PrintStmt>(line).Target);

    [Theory]
    [InlineData("print rc", "rc")]
    [InlineData("print sysfs enabled", "sysfs enabled")]
    [InlineData("print vmstat thp_split_page", "vmstat thp_split_page")]
    [InlineData("print meminfo MemFree", "meminfo MemFree")]
    [InlineData("print p smaps buf Rss", "p smaps buf Rss")]
    [InlineData("print p thpmaps buf anon-thp-pte-partial", "p thpmaps buf anon-thp-pte-partial")]
    [InlineData("print p folio buf 0 order", "p folio buf 0 order")]
    [InlineData("print p intact buf", "p intact buf")]
    public void PrintObservables(string line, string observable)
    {
        var target = Assert.IsType<PrintObservable>(Op<PrintStmt>(line).Target);
        Assert.Equal(observable, target.Observable.ToString());
        Assert.Equal(7, target.Observable.Span.Column);
    }
}
