using MthpSim.Scenario.Syntax;
using Xunit;
using static MthpSim.Tests.Syntax.SyntaxTestHelpers;

namespace MthpSim.Tests.Syntax;

/// <summary>Lines, comments, blank lines, separators and columns.</summary>
public class LexerTests
{
    [Fact]
    public void EmptyAndCommentOnlyFilesHaveNoStatements()
    {
        Assert.Empty(Ok(""));
        Assert.Empty(Ok("\n\n   \t\n# only a comment\n   # indented comment\n"));
    }

    [Fact]
    public void CommentsAndBlankLinesKeepLineNumbers()
    {
        var s = Ok("# title\n\nprocess p   # the process\n\t\n  p mmap buf any 4K#no space before the comment\n");
        Assert.Equal(new SourceSpan(FileName, 3, 1), s[0].Span);
        Assert.Equal("process p", s[0].Text);
        Assert.Equal(new SourceSpan(FileName, 5, 3), s[1].Span);
        Assert.Equal("p mmap buf any 4K", s[1].Text);
        Assert.Equal(4096, ((MmapStmt)s[1]).Length);
    }

    [Fact]
    public void TabsAndRunsOfSpacesSeparateWords()
    {
        var e = Last<ExpectStmt>("process p\np\tmmap  buf\t \tany 4K\n\texpect\tp  smaps buf\tRss == 0");
        Assert.Equal(new SourceSpan(FileName, 3, 9), e.Lhs.Span);
        Assert.Equal(new SourceSpan(FileName, 3, 22), ((SmapsObs)e.Lhs).NameSpan);
        Assert.Equal("expect\tp  smaps buf\tRss == 0", e.Text);
    }

    [Fact]
    public void CrLfLineEndingsAndByteOrderMark()
    {
        var s = Ok("\uFEFFprocess p\r\np mmap buf any 4K\r\n");
        Assert.Equal(("p", "buf"), (((MmapStmt)s[1]).Process, ((MmapStmt)s[1]).Region));
        Assert.Equal("process p", s[0].Text);
    }

    [Fact]
    public void HashAlwaysStartsAComment()
    {
        // There is no quoting: a '#' inside a sysfs value ends the value.
        Assert.Equal("always", Last<SysfsWriteStmt>("sysfs enabled = always#madvise").Value);
    }

    [Fact]
    public void KeywordsAreCaseSensitive()
    {
        var e = OneError("Process p");
        Assert.Equal("unknown statement 'Process' (did you mean 'process'?)", e.Message);
    }
}
