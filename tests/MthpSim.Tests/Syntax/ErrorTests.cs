using MthpSim.Scenario.Syntax;
using Xunit;
using static MthpSim.Tests.Syntax.SyntaxTestHelpers;

namespace MthpSim.Tests.Syntax;

/// <summary>Each kind of error, with its exact line, column and message.</summary>
public class ErrorTests
{
    private const string Setup = "process p\np mmap buf any 4M\nmemfd f 2M\n"; // lines 1-3

    private static void AssertError(string text, int line, int column, string message)
    {
        var e = OneError(text);
        Assert.Equal((line, column, message), (e.Line, e.Column, e.Message));
    }

    // The error is on line 4 (after Setup).
    [Theory]
    // unknown statements, with hints over keywords and verbs
    [InlineData("wrtie buf 0 4K", 1, "unknown statement 'wrtie' (did you mean 'write'?)")]
    [InlineData("p wrtie buf 0 4K", 3, "unknown statement 'wrtie' (did you mean 'write'?)")]
    [InlineData("proces q", 1, "unknown statement 'proces' (did you mean 'process'?)")]
    [InlineData("slep 1s", 1, "unknown statement 'slep' (did you mean 'sleep'?)")]
    [InlineData("frobnicate", 1, "unknown statement 'frobnicate'")]
    [InlineData("write buf 0 4K", 1, "unknown statement 'write' (operations name their process first: 'PROC write ...')")]
    [InlineData("p frobnicate", 3, "unknown statement 'frobnicate'; after a process name expected mmap, munmap, mprotect, madvise, read, write, rmw, mremap, fork, exit, prctl, pin, unpin, cgroup or uffd")]
    [InlineData("p", 2, "expected an operation after 'p' (mmap, munmap, mprotect, madvise, read, write, rmw, mremap, fork, exit, prctl, pin, unpin, cgroup or uffd), got end of line")]
    // userfaultfd
    [InlineData("p uffd regster buf 0 4K missing", 8, "expected a userfaultfd operation (register, unregister, copy, zeropage, continue or wp), got 'regster' (did you mean 'register'?)")]
    [InlineData("p uffd register buf 0 4K mising", 26, "expected a mode (missing, wp, minor, or several joined by +), got 'mising' (did you mean 'missing'?)")]
    [InlineData("p uffd register buf 0 4K missing+missing", 26, "mode 'missing' is given twice in 'missing+missing'")]
    [InlineData("p uffd register buf 0 4K", 25, "expected a mode (missing, wp, minor, or several joined by +, e.g. missing+wp), got end of line")]
    [InlineData("p uffd register buf 0 4K wp handler=cpy", 29, "handler must be copy, zeropage or none, got 'cpy' (did you mean 'copy'?)")]
    [InlineData("p uffd register buf 0 4K wp copy", 29, "expected handler=copy|zeropage|none, got 'copy'")]
    [InlineData("p uffd wp buf 0 4K 2", 20, "expected 0 (clear write protection) or 1 (set it), got '2'")]
    [InlineData("p uffd copy buf 0 4K 1", 22, "unexpected '1' after the end of the uffd copy statement")]
    [InlineData("expect p uffd fault == 0", 15, "expected a userfaultfd observable (faults), got 'fault' (did you mean 'faults'?)")]
    // processes
    [InlineData("q write buf 0 4K", 1, "unknown process 'q' (did you mean 'p'?)")]
    [InlineData("expect q smaps buf Rss == 0", 8, "unknown process 'q' (did you mean 'p'?)")]
    [InlineData("process p", 9, "process 'p' already exists (created at line 1)")]
    [InlineData("process 1p", 9, "expected a process name (an identifier such as p or worker_1), got '1p'")]
    [InlineData("process a-b", 9, "expected a process name (an identifier such as p or worker_1), got 'a-b'")]
    [InlineData("process stats", 9, "'stats' is a reserved word and cannot name a process")]
    [InlineData("p fork rc", 8, "'rc' is a reserved word and cannot name a process")]
    [InlineData("p fork p", 8, "process 'p' already exists (created at line 1)")]
    [InlineData("process", 8, "expected a process name, got end of line")]
    // regions
    [InlineData("p write bfu 0 4K", 9, "unknown region 'bfu' of process 'p' (did you mean 'buf'?)")]
    [InlineData("expect p smaps zzz Rss == 0", 16, "unknown region 'zzz' of process 'p'")]
    [InlineData("print p smaps zzz", 15, "unknown region 'zzz' of process 'p'")]
    // memfd files
    [InlineData("ftruncate g 4K", 11, "unknown file 'g' (create it first with 'memfd g SIZE' or 'file g on MOUNT') (did you mean 'f'?)")]
    [InlineData("p mmap m any 4K shared memfd:g", 24, "unknown file 'g' (create it first with 'memfd g SIZE' or 'file g on MOUNT') (did you mean 'f'?)")]
    [InlineData("p mmap m any 4K memfd:", 17, "expected memfd:FILE[+OFFSET] with a file name, got 'memfd:'")]
    [InlineData("p mmap m any 4K memfd:f+x", 17, "expected an offset (e.g. 0, 64K, 0x1000) for 'file offset', got 'x'")]
    [InlineData("memfd f 4K", 7, "file 'f' already exists (created at line 3)")]
    [InlineData("pwrite g 0 4K", 8, "unknown file 'g' (create it first with 'memfd g SIZE' or 'file g on MOUNT') (did you mean 'f'?)")]
    [InlineData("file f on m", 6, "file 'f' already exists (created at line 3)")]
    [InlineData("file h on m", 11, "unknown tmpfs mount 'm' (create it first with 'tmpfs m')")]
    [InlineData("tmpfs m huge=always size=0", 21, "expected size=SIZE with a positive size (e.g. size=64M), got 'size=0'")]
    [InlineData("tmpfs m hug=always", 9, "expected a tmpfs option (huge=never|always|within_size|advise, size=SIZE), got 'hug=always' (did you mean 'huge'?)")]
    [InlineData("expect file f folio 0 size == 0", 23, "expected a folio attribute (order or kind), got 'size'")]
    [InlineData("p mmap m any 4K file:", 17, "expected file:FILE[+OFFSET] with a file name, got 'file:'")]
    [InlineData("memfd a:b 4K", 7, "expected a file name (letters, digits, '_', '-', '.'), got 'a:b'")]
    [InlineData("fallocate f zap 0 4K", 13, "expected a fallocate mode (punch or alloc), got 'zap'")]
    [InlineData("lseek f dat 0", 9, "expected a seek mode (data or hole), got 'dat' (did you mean 'data'?)")]
    // numbers and ranges
    [InlineData("p mmap m any abc", 14, "expected a size (e.g. 4K, 2M, 0x1000), got 'abc'")]
    [InlineData("p mmap m -4K 4K", 10, "address must not be negative, got '-4K'")]
    [InlineData("p mmap m anywhere 4K", 10, "expected an address (e.g. 0x40000000) or 'any', got 'anywhere'")]
    [InlineData("p read buf -1 4K", 12, "offset must not be negative, got '-1'")]
    [InlineData("p read buf 0 -EINVAL", 14, "length must not be negative, got '-EINVAL'")]
    [InlineData("p pin buf 0 0", 13, "size must be greater than 0, got '0'")]
    [InlineData("p read buf 0 4K step=0", 17, "step must be greater than 0, got '0'")]
    [InlineData("p read buf 0 4K step=", 17, "expected a size (e.g. 4K, 2M, 0x1000) for 'step', got nothing")]
    [InlineData("p read buf 0 4K stp=8", 17, "expected step=S or each=E, got 'stp=8' (did you mean 'step'?)")]
    [InlineData("p read buf 0 4K step=4K step=8K", 25, "'step' is given twice")]
    [InlineData("p munmap buf 0", 15, "expected a size (e.g. 4K, 2M, 0x1000) (munmap takes both OFF and LEN, or neither), got end of line")]
    [InlineData("p read buf 0x7fffffffffffffff 4K", 31, "offset + length is beyond the 64-bit range")]
    [InlineData("p mmap m 0x7ffffffffffff000 8K", 29, "address + length is beyond the 64-bit range")]
    [InlineData("p mremap buf 0x7ffffffffffff000 8K", 33, "address + length is beyond the 64-bit range")]
    [InlineData("fallocate f alloc 0x7fffffffffffffff 1", 38, "offset + length is beyond the 64-bit range")]
    [InlineData("ftruncate f -1", 13, "size must not be negative, got '-1'")]
    [InlineData("khugepaged scan 0", 17, "count must be greater than 0, got '0'")]
    [InlineData("khugepaged full-scans", 22, "expected a count (e.g. 1, 10), got end of line")]
    [InlineData("khugepaged scna", 12, "expected a khugepaged command (scan or full-scans), got 'scna' (did you mean 'scan'?)")]
    [InlineData("p prctl thp_disable 2", 21, "expected 0 or 1, got '2'")]
    [InlineData("p prctl thp_enable 1", 9, "expected a prctl option (thp_disable), got 'thp_enable' (did you mean 'thp_disable'?)")]
    // words
    [InlineData("p mprotect buf 0 4K rwx", 21, "expected a protection (none, r or rw), got 'rwx' (did you mean 'rw'?)")]
    [InlineData("p madvise buf 0 4K hugepages", 20, "expected an advice (hugepage, nohugepage, dontneed, free, collapse, populate_read, populate_write, pageout, cold or remove), got 'hugepages' (did you mean 'hugepage'?)")]
    [InlineData("p mmap m any 4K shared private", 24, "'private' conflicts with 'shared' given earlier on this line")]
    [InlineData("p mmap m any 4K r rw", 19, "'rw' conflicts with 'r' given earlier on this line")]
    [InlineData("p mmap m any 4K anon memfd:f", 22, "'memfd:f' conflicts with 'anon' given earlier on this line")]
    [InlineData("p mmap m any 4K sharde", 17, "expected rw, r, none, private, shared, anon, memfd:FILE[+OFFSET] or file:FILE[+OFFSET], got 'sharde' (did you mean 'shared'?)")]
    [InlineData("p exit now", 8, "unexpected 'now' after the end of the exit statement")]
    // settings
    [InlineData("sysfs enabled always", 15, "expected '=' after the sysfs path, got 'always'")]
    [InlineData("sysfs enabled =", 16, "expected a value after '=', got end of line")]
    [InlineData("sysfs enabled=always", 7, "write 'PATH = VALUE' with spaces around '=', got 'enabled=always'")]
    [InlineData("sysfs /sys/kernel/mm/transparent_hugepage/enabled = never", 7, "sysfs paths are relative to /sys/kernel/mm/transparent_hugepage/ (e.g. enabled), got '/sys/kernel/mm/transparent_hugepage/enabled'")]
    [InlineData("policy colapse = mthp", 8, "unknown policy 'colapse' (did you mean 'collapse'?); the only policy is 'collapse'")]
    [InlineData("policy collapse mthp", 17, "expected '=' after 'collapse', got 'mthp'")]
    [InlineData("machine", 1, "'machine' must come before any other statement")]
    // expect and print
    [InlineData("expect rc = 0", 11, "expected a comparison operator (==, !=, <, <=, >, >=), got '=' (did you mean '=='?)")]
    [InlineData("expect sysfs enabled < always", 24, "'always' is a word; words can only be compared with == or !=")]
    [InlineData("expect rx == 0", 8, "expected an observable (rc, sysfs PATH, vmstat NAME, meminfo NAME, file FILE ..., cgroup CG usage|max_usage, PROC alive|minflt|majflt|uffd faults, PROC cost [KIND], PROC work UNIT [KIND], PROC tlb entries|reach N, or PROC smaps|thpmaps|folio|intact REGION ...), got 'rx' (did you mean 'rc'?)")]
    [InlineData("expect p smap buf Rss == 0", 10, "expected an observable of process 'p' (smaps, thpmaps, folio, intact, minflt, majflt, alive, uffd, cost, work, tlb or contpte), got 'smap' (did you mean 'smaps'?)")]
    [InlineData("expect p folio buf 0 size == 0", 22, "expected a folio attribute (order or kind), got 'size'")]
    [InlineData("expect p smaps buf Rss", 23, "expected a comparison operator (==, !=, <, <=, >, >=), got end of line")]
    [InlineData("expect rc == 0 1", 16, "unexpected '1' after the end of the expect statement")]
    [InlineData("print stat", 7, "expected what to print (an observable, stats, vmstat, meminfo, buddyinfo, pagetypeinfo, sysfs, cost, tlb, khugepaged trace, or PROC smaps|thpmaps [REGION] [OPTIONS]), got 'stat' (did you mean 'stats'?)")]
    [InlineData("print khugepaged", 17, "expected what to print about khugepaged (trace), got end of line")]
    [InlineData("expect meminfo", 15, "expected a /proc/meminfo field name (e.g. AnonHugePages), got end of line")]
    [InlineData("print khugepaged trace all", 24, "expected a trace option (extended), got 'all'")]
    [InlineData("print p thpmaps rollup rollup", 24, "'rollup' is given twice")]
    [InlineData("print p thpmaps cont=48K", 17, "cont must be a power-of-2 size (as thpmaps --cont), got '48K'")]
    [InlineData("print stats now", 13, "unexpected 'now' after the end of the print statement")]
    public void ErrorsAfterSetup(string line, int column, string message) => AssertError(Setup + line, 4, column, message);

    [Theory]
    [InlineData("machine memroy=1G", 9, "unknown machine setting 'memroy' (did you mean 'memory'?); expected memory, page, arch, swap, swapdev, rmw or seed")]
    [InlineData("machine 16G", 9, "expected KEY=VALUE with KEY one of memory, page, arch, swap, swapdev, rmw or seed, got '16G'")]
    [InlineData("machine page=8K", 9, "page must be 4K, 16K or 64K, got '8K'")]
    [InlineData("machine arch=aarch64", 9, "arch must be x86_64 or arm64, got 'aarch64' (did you mean 'arm64'?)")]
    [InlineData("machine arch=riscv", 9, "arch must be x86_64 or arm64, got 'riscv'")]
    [InlineData("machine arch=arm46", 9, "arch must be x86_64 or arm64, got 'arm46' (did you mean 'arm64'?)")]
    [InlineData("machine memory=0", 9, "memory must be greater than 0, got '0'")]
    [InlineData("machine memory=lots", 9, "expected a size (e.g. 4K, 2M, 0x1000) for 'memory', got 'lots'")]
    [InlineData("machine swap=-1", 9, "swap must not be negative, got '-1'")]
    [InlineData("machine seed=-1", 9, "expected a non-negative integer (e.g. 1, 42) for 'seed', got '-1' (must not be negative)")]
    [InlineData("machine seed=18446744073709551616", 9, "'18446744073709551616' is out of range for 'seed' (it must fit in an unsigned 64-bit integer)")]
    [InlineData("machine seed=1 seed=2", 16, "machine setting 'seed' is given twice")]
    public void MachineErrors(string line, int column, string message) => AssertError(line, 1, column, message);

    [Fact]
    public void MachineOnlyOnce()
    {
        var r = ScenarioParser.Parse(FileName, "machine\nmachine");
        Assert.Equal("t.mthp:2:1: error: 'machine' may appear only once (already given at line 1)", Assert.Single(r.Errors).ToString());
    }

    [Fact]
    public void MachineAfterAnotherStatement() =>
        AssertError("# comment\nprocess p\n\n  machine memory=1G", 4, 3, "'machine' must come before any other statement");

    [Fact]
    public void ExitedProcessCannotBeUsed()
    {
        var r = ScenarioParser.Parse(FileName, Setup + "p exit\np write buf 0 4K\nexpect p intact buf == 1\nprint p smaps\np fork c\nprocess p");
        Assert.Equal(new[]
        {
            "t.mthp:5:1: error: process 'p' has exited (line 4) and cannot be used any more",
            "t.mthp:6:8: error: process 'p' has exited (line 4) and cannot be used any more",
            "t.mthp:7:7: error: process 'p' has exited (line 4) and cannot be used any more",
            "t.mthp:8:1: error: process 'p' has exited (line 4) and cannot be used any more",
            "t.mthp:9:9: error: process 'p' already exists (created at line 1)",
        }, r.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void ProcessMustBeCreatedBeforeUse() =>
        AssertError("p mmap buf any 4K\nprocess p", 1, 1, "unknown process 'p'");

    [Fact]
    public void RegionMustBeMappedBeforeUse() =>
        AssertError("process p\np write buf 0 4K\np mmap buf any 4K", 2, 9, "unknown region 'buf' of process 'p'");

    [Fact]
    public void MemfdMustBeCreatedBeforeUse() =>
        AssertError("lseek f data 0\nmemfd f 4K", 1, 7, "unknown file 'f' (create it first with 'memfd f SIZE' or 'file f on MOUNT')");

    [Fact]
    public void AllErrorsAreCollectedAndNothingIsReturnedForThem()
    {
        var r = ScenarioParser.Parse("x.mthp", "process p\np mmap buf any abc\np wrtie buf 0 4K\n\np write buf 0 4K\nexpect rc == 12x  # bad");
        Assert.False(r.Success);
        Assert.Equal(new[]
        {
            "x.mthp:2:16: error: expected a size (e.g. 4K, 2M, 0x1000), got 'abc'",
            "x.mthp:3:3: error: unknown statement 'wrtie' (did you mean 'write'?)",
            "x.mthp:6:14: error: expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '12x' (unknown suffix 'x'; use K, M, G, T, KB, kB, MB, GB or TB)",
        }, r.Errors.Select(e => e.ToString()));
        // The region name was bound despite the bad length, so line 5 raises no follow-on error.
        Assert.Equal(2, r.Statements.Count);
    }

    [Fact]
    public void MissingWordPointsJustPastTheLine()
    {
        var e = OneError("process p\np mmap buf 0x1000   # comment");
        Assert.Equal((2, 18, "expected a size (e.g. 4K, 2M, 0x1000), got end of line"), (e.Line, e.Column, e.Message));
    }

    [Fact]
    public void DiagnosticFormat() =>
        Assert.Equal("a/b.mthp:3:7: error: boom", new Diagnostic("a/b.mthp", 3, 7, "boom").ToString());
}
