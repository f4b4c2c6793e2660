using MthpSim.Scenario.Syntax;
using Xunit;
using static MthpSim.Tests.Syntax.SyntaxTestHelpers;

namespace MthpSim.Tests.Syntax;

/// <summary>The example at the end of the language spec parses to exactly these statements.</summary>
public class SpecExampleTests
{
    private const string Example = """
        # 64K mTHP at fault time: one touch per 64K block allocates one 64K folio.
        sysfs hugepages-64kB/enabled = always
        sysfs enabled = never                       # the PMD size inherits 'never'
        process p
        p mmap buf 0x40000000 4M
        p write buf 0 2M step=64K
        p write buf 2M 4K
        p write buf 0x214000 4K
        expect sysfs hugepages-64kB/stats/anon_fault_alloc == 34
        expect p smaps buf Rss == 2176kB
        expect p thpmaps buf anon-thp-pte-aligned-64kB == 2176kB
        expect p intact buf == 1
        """;

    [Fact]
    public void ExampleParsesToTheExpectedStatements()
    {
        var expected = new Statement[]
        {
            new SysfsWriteStmt(At(2, 1), "sysfs hugepages-64kB/enabled = always", "hugepages-64kB/enabled", "always"),
            new SysfsWriteStmt(At(3, 1), "sysfs enabled = never", "enabled", "never"),
            new ProcessStmt(At(4, 1), "process p", "p"),
            new MmapStmt(At(5, 1), "p mmap buf 0x40000000 4M", "p", "buf", 0x40000000, 4 << 20, Prot.ReadWrite, false, null, 0),
            new AccessStmt(At(6, 1), "p write buf 0 2M step=64K", "p", "buf", true, 0, 2 << 20, 64 << 10, null),
            new AccessStmt(At(7, 1), "p write buf 2M 4K", "p", "buf", true, 2 << 20, 4096, null, null),
            new AccessStmt(At(8, 1), "p write buf 0x214000 4K", "p", "buf", true, 0x214000, 4096, null, null),
            new ExpectStmt(At(9, 1), "expect sysfs hugepages-64kB/stats/anon_fault_alloc == 34",
                new SysfsObs(At(9, 8), "hugepages-64kB/stats/anon_fault_alloc", At(9, 14)), CompareOp.Eq, new NumberOperand(34, false)),
            new ExpectStmt(At(10, 1), "expect p smaps buf Rss == 2176kB",
                new SmapsObs(At(10, 8), "p", "buf", "Rss", At(10, 20)), CompareOp.Eq, new NumberOperand(2176 * 1024, true)),
            new ExpectStmt(At(11, 1), "expect p thpmaps buf anon-thp-pte-aligned-64kB == 2176kB",
                new ThpmapsObs(At(11, 8), "p", "buf", "anon-thp-pte-aligned-64kB", At(11, 22)), CompareOp.Eq,
                new NumberOperand(2176 * 1024, true)),
            new ExpectStmt(At(12, 1), "expect p intact buf == 1",
                new IntactObs(At(12, 8), "p", "buf"), CompareOp.Eq, new NumberOperand(1, false)),
        };

        var actual = Ok(Example);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ObservablesPrintInSourceForm()
    {
        var s = Ok(Example);
        Assert.Equal("sysfs hugepages-64kB/stats/anon_fault_alloc", ((ExpectStmt)s[7]).Lhs.ToString());
        Assert.Equal("p smaps buf Rss", ((ExpectStmt)s[8]).Lhs.ToString());
        Assert.Equal("p thpmaps buf anon-thp-pte-aligned-64kB", ((ExpectStmt)s[9]).Lhs.ToString());
        Assert.Equal("p intact buf", ((ExpectStmt)s[10]).Lhs.ToString());
    }
}
