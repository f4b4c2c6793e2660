namespace MthpSim.Scenario.Syntax;

// Numeric arguments. Each kind of value has its own "expected ..." wording and range rule:
// lengths must be > 0, offsets, addresses and file sizes >= 0.
public sealed partial class ScenarioParser
{
    private const string SizeExpected = "a size (e.g. 4K, 2M, 0x1000)";
    private const string OffsetExpected = "an offset (e.g. 0, 64K, 0x1000)";
    private const string AddressExpected = "an address (e.g. 0x40000000) or 'any'";
    private const string CountExpected = "a count (e.g. 1, 10)";

    /// <summary>Reads a number from <paramref name="text"/> (the token itself, or the value part of
    /// key=value, named by <paramref name="key"/>); errors point at the token.</summary>
    private static long Number(Token at, string expected, string? text = null, string? key = null)
    {
        text ??= at.Text;
        var r = NumberSyntax.ParseInteger(text);
        if (r.Ok)
            return r.Value;
        throw NumberError(at, r, expected, text, key);
    }

    private static SyntaxError NumberError(Token at, NumberResult r, string expected, string text, string? key)
    {
        var forKey = key is null ? "" : $" for {Echo.Quote(key)}";
        if (r.Status == NumberStatus.Overflow)
            return new SyntaxError(at.Column, $"{Echo.Quote(text)} is out of range{forKey} (it must fit in a signed 64-bit integer)");
        var got = text.Length == 0 ? "nothing" : $"{Echo.Quote(text)}";
        var hint = r.Hint is null ? "" : $" ({r.Hint})";
        return new SyntaxError(at.Column, $"expected {expected}{forKey}, got {got}{hint}");
    }

    /// <summary>A length: LEN, NEWLEN, step=, each=, memory=. Must be greater than zero.</summary>
    private static long Length(Token at, string? text = null, string? key = null, string what = "size")
    {
        text ??= at.Text;
        long v = Number(at, SizeExpected, text, key);
        if (v <= 0)
            throw new SyntaxError(at.Column, $"{key ?? what} must be greater than 0, got {Echo.Quote(text)}");
        return v;
    }

    /// <summary>
    /// A length a system call takes (mmap, munmap, mprotect, madvise, an access, mremap, pwrite, pread,
    /// fallocate, userfaultfd): 0 is passed on, and the call answers as the kernel's does (-EINVAL or 0).
    /// </summary>
    private static long CallLength(Token at) => NonNegativeSize(at, "length");

    /// <summary>An offset into a region or file. Must not be negative.</summary>
    private static long Offset(Token at, string? text = null, string? key = null)
    {
        text ??= at.Text;
        long v = Number(at, OffsetExpected, text, key);
        if (v < 0)
            throw new SyntaxError(at.Column, $"offset must not be negative, got {Echo.Quote(text)}");
        return v;
    }

    /// <summary>A file size or swap size: zero is meaningful (an empty file, no swap).</summary>
    private static long NonNegativeSize(Token at, string what, string? text = null, string? key = null)
    {
        text ??= at.Text;
        long v = Number(at, SizeExpected, text, key);
        if (v < 0)
            throw new SyntaxError(at.Column, $"{key ?? what} must not be negative, got {Echo.Quote(text)}");
        return v;
    }

    /// <summary>ADDR|any: null means the simulator picks the address.</summary>
    private static long? AddressOrAny(Token at)
    {
        if (at.Text == "any")
            return null;
        long v = Number(at, AddressExpected);
        if (v < 0)
            throw new SyntaxError(at.Column, $"address must not be negative, got {Echo.Quote(at.Text)}");
        return v;
    }

    /// <summary>A number of rounds or scans: at least one.</summary>
    private static long Count(Token at)
    {
        long v = Number(at, CountExpected);
        if (v <= 0)
            throw new SyntaxError(at.Column, $"count must be greater than 0, got {Echo.Quote(at.Text)}");
        return v;
    }

    /// <summary>START + LEN must be representable, so the runtime never has to guard its range arithmetic.</summary>
    private static void CheckEnd(Token lengthToken, long start, long length, string startName)
    {
        if (start > long.MaxValue - length)
            throw new SyntaxError(lengthToken.Column, $"{startName} + length is beyond the 64-bit range");
    }
}
