using MthpSim.Scenario.Syntax;
using Xunit;
using static MthpSim.Tests.Syntax.SyntaxTestHelpers;

namespace MthpSim.Tests.Syntax;

/// <summary>Input text in a message: unprintable characters escaped, long words cut, never a second line.</summary>
public class EchoTests
{
    [Theory]
    [InlineData("buf", "'buf'")]
    [InlineData("a\u0000b", "'a\\x00b'")]
    [InlineData("a\nb\rc\u007f", "'a\\x0ab\\x0dc\\x7f'")]
    [InlineData("a\\x00", "'a\\\\x00'")]
    [InlineData("caf\u00e9", "'caf\u00e9'")]
    [InlineData("\u202eabc", "'\\u202eabc'")]
    [InlineData("a\u00a0b", "'a\\xa0b'")]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234", "'0123456789012345678901234567890123456789012345678901234567890123...' (65 characters)")]
    public void Quote(string word, string shown) => Assert.Equal(shown, Echo.Quote(word));

    [Fact]
    public void A_surrogate_pair_is_never_cut_in_half() =>
        Assert.Equal(new string('a', 63) + "...", Echo.Short(new string('a', 63) + "\U0001F600" + "bbb"));

    [Theory]
    [InlineData("process p\u0000", 10, "unprintable character \\x00 in 'p\\x00'; words are printable text separated by spaces or tabs")]
    [InlineData("process p\u000bq", 10, "unprintable character \\x0b in 'p\\x0bq'; words are printable text separated by spaces or tabs")]
    [InlineData("process p\u2028q", 10, "unprintable character \\u2028 in 'p\\u2028q'; words are printable text separated by spaces or tabs")]
    [InlineData("process \u00e9", 9, "expected a process name (an identifier such as p or worker_1), got '\u00e9'")]
    public void Unprintable_characters_and_names_that_are_not_identifiers_are_errors(string line, int column, string message)
    {
        var e = OneError(line);
        Assert.Equal((1, column, message), (e.Line, e.Column, e.Message));
    }

    [Fact]
    public void A_comment_may_hold_any_text() =>
        Assert.Single(Ok("process p # caf\u00e9 \u202e \u0001\n"));

    [Fact]
    public void A_region_name_may_hold_dashes_and_dots() =>
        Assert.Equal(3, Ok("process p\np mmap buf-1 any 2M\np write buf-1 0 4K\n").Count);

    [Fact]
    public void A_region_name_starts_with_a_letter_or_underscore()
    {
        var e = OneError("process p\np mmap 1a any 2M\n");
        Assert.Equal((2, 8, "expected a region name (letters, digits, _, - and ., not starting with a digit or -, such as buf or heap-1), got '1a'"), (e.Line, e.Column, e.Message));
    }
}
