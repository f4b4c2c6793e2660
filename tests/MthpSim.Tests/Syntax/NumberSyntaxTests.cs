using MthpSim.Scenario.Syntax;
using Xunit;
using static MthpSim.Tests.Syntax.SyntaxTestHelpers;

namespace MthpSim.Tests.Syntax;

/// <summary>Numbers, sizes, errno names and durations (spec, lexical rules).</summary>
public class NumberSyntaxTests
{
    private static NumberOperand Rhs(string word) =>
        Assert.IsType<NumberOperand>(Last<ExpectStmt>($"expect rc == {word}").Rhs);

    [Theory]
    [InlineData("0", 0L, false)]
    [InlineData("4096", 4096L, false)]
    [InlineData("007", 7L, false)]
    [InlineData("-22", -22L, false)]
    [InlineData("0x40000000", 0x40000000L, false)]
    [InlineData("0XfF", 255L, false)]
    [InlineData("-0x10", -16L, false)]
    [InlineData("64K", 65536L, true)]
    [InlineData("2M", 2097152L, true)]
    [InlineData("16G", 17179869184L, true)]
    [InlineData("1T", 1099511627776L, true)]
    [InlineData("1KB", 1024L, true)]
    [InlineData("2176kB", 2228224L, true)]
    [InlineData("3MB", 3145728L, true)]
    [InlineData("2GB", 2147483648L, true)]
    [InlineData("1TB", 1099511627776L, true)]
    [InlineData("-4K", -4096L, true)]
    [InlineData("0x10K", 16384L, true)]
    [InlineData("9223372036854775807", long.MaxValue, false)]
    [InlineData("-9223372036854775808", long.MinValue, false)]
    [InlineData("8388607T", 8388607L << 40, true)]
    public void Numbers(string word, long value, bool suffix) =>
        Assert.Equal(new NumberOperand(value, suffix), Rhs(word));

    [Theory]
    [InlineData("-EPERM", -1)]
    [InlineData("-ENXIO", -6)]
    [InlineData("-EAGAIN", -11)]
    [InlineData("-ENOMEM", -12)]
    [InlineData("-EFAULT", -14)]
    [InlineData("-EBUSY", -16)]
    [InlineData("-EEXIST", -17)]
    [InlineData("-EINVAL", -22)]
    [InlineData("-ENOENT", -2)]
    [InlineData("-ESRCH", -3)]
    [InlineData("-EACCES", -13)]
    [InlineData("-ENOSPC", -28)]
    public void ErrnoNames(string word, long value) => Assert.Equal(new NumberOperand(value, false), Rhs(word));

    [Theory]
    [InlineData("0ms", 0L)]
    [InlineData("500ms", 500L)]
    [InlineData("10s", 10_000L)]
    [InlineData("2m", 120_000L)]
    [InlineData("0x10s", 16_000L)]
    [InlineData("24h", 86_400_000L)]
    public void Durations(string word, long ms) => Assert.Equal(ms, Last<SleepStmt>($"sleep {word}").Milliseconds);

    [Theory]
    [InlineData("12x", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '12x' (unknown suffix 'x'; use K, M, G, T, KB, kB, MB, GB or TB)")]
    [InlineData("4k", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '4k' (unknown suffix 'k'; use K, M, G, T, KB, kB, MB, GB or TB)")]
    [InlineData("1.5M", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '1.5M' (fractions are not supported; use a smaller unit, e.g. 1536K)")]
    [InlineData("0x", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '0x'")]
    [InlineData("0xZ1", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '0xZ1'")]
    [InlineData("-", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '-'")]
    [InlineData("--1", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '--1'")]
    [InlineData("+1", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '+1'")]
    [InlineData("EINVAL", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got 'EINVAL' (errno names are written negated: -EINVAL)")]
    [InlineData("-ENOTDIR", "expected a number (e.g. 34, 2176kB, 0x1000, -EINVAL), got '-ENOTDIR' (unknown errno name 'ENOTDIR'; known: EACCES, EAGAIN, EBUSY, EEXIST, EFAULT, EINVAL, ENOENT, ENOMEM, ENOSPC, ENXIO, EPERM, ESRCH)")]
    [InlineData("9223372036854775808", "'9223372036854775808' is out of range (it must fit in a signed 64-bit integer)")]
    [InlineData("-9223372036854775809", "'-9223372036854775809' is out of range (it must fit in a signed 64-bit integer)")]
    [InlineData("99999999999999999999999", "'99999999999999999999999' is out of range (it must fit in a signed 64-bit integer)")]
    [InlineData("0x10000000000000000", "'0x10000000000000000' is out of range (it must fit in a signed 64-bit integer)")]
    [InlineData("8388608T", "'8388608T' is out of range (it must fit in a signed 64-bit integer)")]
    public void BadNumbers(string word, string message)
    {
        var e = OneError($"expect rc == {word}");
        Assert.Equal((1, 14, message), (e.Line, e.Column, e.Message));
    }

    [Fact]
    public void ANonNumericRightHandSideIsAWord() =>
        Assert.Equal(new WordOperand("abc"), Last<ExpectStmt>("expect rc == abc").Rhs);

    [Theory]
    [InlineData("500", "expected a duration (e.g. 500ms, 10s, 2m, 24h), got '500' (a duration needs a unit: ms, s, m or h)")]
    [InlineData("2d", "expected a duration (e.g. 500ms, 10s, 2m, 24h), got '2d' (a duration needs a unit: ms, s, m or h)")]
    [InlineData("2Ms", "expected a duration (e.g. 500ms, 10s, 2m, 24h), got '2Ms'")]
    [InlineData("xs", "expected a duration (e.g. 500ms, 10s, 2m, 24h), got 'xs'")]
    [InlineData("-5s", "duration must not be negative, got '-5s'")]
    [InlineData("9223372036854775807s", "'9223372036854775807s' is out of range (it must fit in a signed 64-bit integer)")]
    public void BadDurations(string word, string message)
    {
        var e = OneError($"sleep {word}");
        Assert.Equal((1, 7, message), (e.Line, e.Column, e.Message));
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(4096L, "4K")]
    [InlineData(0x214000L, "2128K")]
    [InlineData(2097152L, "2M")]
    [InlineData(1L << 40, "1T")]
    [InlineData(4097L, "4097")]
    [InlineData(-4096L, "-4K")]
    public void FormatSize(long bytes, string text) => Assert.Equal(text, NumberSyntax.FormatSize(bytes));
}
