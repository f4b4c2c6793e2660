using System.Globalization;

namespace MthpSim.Scenario.Syntax;

/// <summary>Numbers, sizes, errno names and durations as the spec's lexical rules define them:
/// decimal or 0x hex, optional '-', binary size suffixes, -ERRNO, and N ms|s|m.</summary>
internal static class NumberSyntax
{
    // Linux x86_64 (asm-generic) values; the spec fixes these so files mean the same everywhere.
    public static readonly IReadOnlyDictionary<string, int> Errnos = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["EPERM"] = 1, ["ENOENT"] = 2, ["ESRCH"] = 3, ["ENXIO"] = 6, ["EAGAIN"] = 11, ["ENOMEM"] = 12,
        ["EACCES"] = 13, ["EFAULT"] = 14, ["EBUSY"] = 16, ["EEXIST"] = 17, ["EINVAL"] = 22, ["ENOSPC"] = 28,
    };

    // All suffixes are powers of 1024, as the spec says; 'k' alone and 'mb' are not accepted
    // because the spec lists the exact spellings (and 'm' means minutes in durations).
    private static readonly Dictionary<string, ulong> Suffixes = new(StringComparer.Ordinal)
    {
        ["K"] = 1UL << 10, ["KB"] = 1UL << 10, ["kB"] = 1UL << 10,
        ["M"] = 1UL << 20, ["MB"] = 1UL << 20,
        ["G"] = 1UL << 30, ["GB"] = 1UL << 30,
        ["T"] = 1UL << 40, ["TB"] = 1UL << 40,
    };

    private const string SuffixList = "K, M, G, T, KB, kB, MB, GB or TB";

    /// <summary>Reads a signed 64-bit number: 4096, 0x1000, -22, 64K, 2176kB, -EINVAL.</summary>
    public static NumberResult ParseInteger(string text)
    {
        bool negative = text.StartsWith('-');
        var body = negative ? text[1..] : text;
        if (body.Length == 0)
            return NumberResult.Invalid();

        if (body[0] == 'E' && body.All(char.IsAsciiLetterUpper))
        {
            if (!Errnos.TryGetValue(body, out int errno))
                return NumberResult.Invalid($"unknown errno name {Echo.Quote(body)}; known: {string.Join(", ", Errnos.Keys.Order(StringComparer.Ordinal))}");
            return negative
                ? new NumberResult(NumberStatus.Ok, -errno, false, null)
                : NumberResult.Invalid($"errno names are written negated: -{body}");
        }

        var magnitude = ParseMagnitude(body, allowSuffix: true, out ulong value, out bool suffixed);
        if (!magnitude.Ok && magnitude.Status != NumberStatus.Overflow)
            return magnitude;
        if (magnitude.Status == NumberStatus.Overflow)
            return NumberResult.Overflow();
        // long.MinValue's magnitude is one more than long.MaxValue.
        if (negative ? value > (ulong)long.MaxValue + 1 : value > long.MaxValue)
            return NumberResult.Overflow();
        long signed = negative ? (long)(0UL - value) : (long)value;
        return new NumberResult(NumberStatus.Ok, signed, suffixed, null);
    }

    /// <summary>Reads a non-negative number up to 2^64-1 without suffix (the machine seed).</summary>
    public static NumberResult ParseUnsigned(string text, out ulong value)
    {
        value = 0;
        if (text.StartsWith('-'))
            return NumberResult.Invalid("must not be negative");
        var r = ParseMagnitude(text, allowSuffix: false, out value, out _);
        return r;
    }

    /// <summary>Reads a duration into milliseconds: 500ms, 10s, 2m.</summary>
    public static NumberResult ParseDurationMs(string text)
    {
        (string number, long unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 1L),
            _ when text.EndsWith('s') => (text[..^1], 1000L),
            _ when text.EndsWith('m') => (text[..^1], 60_000L),
            _ when text.EndsWith('h') => (text[..^1], 3_600_000L),
            _ => ("", 0L),
        };
        if (unit == 0)
            return NumberResult.Invalid("a duration needs a unit: ms, s, m or h");
        var n = ParseInteger(number);
        if (!n.Ok)
            return n.Status == NumberStatus.Overflow ? n : NumberResult.Invalid(null);
        if (n.HasSizeSuffix || number.StartsWith("-E", StringComparison.Ordinal))
            return NumberResult.Invalid();
        try
        {
            return new NumberResult(NumberStatus.Ok, checked(n.Value * unit), false, null);
        }
        catch (OverflowException)
        {
            return NumberResult.Overflow();
        }
    }

    /// <summary>Unsigned digits (decimal or 0x hex) followed by an optional size suffix.
    /// Reads the whole word before deciding, so "99999999999999999999x" is garbage, not overflow.</summary>
    private static NumberResult ParseMagnitude(string body, bool allowSuffix, out ulong value, out bool suffixed)
    {
        value = 0;
        suffixed = false;
        bool hex = body.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        int i = hex ? 2 : 0;
        int start = i;
        bool overflow = false;
        ulong v = 0;
        for (; i < body.Length; i++)
        {
            char c = body[i];
            int digit = hex ? HexDigit(c) : (char.IsAsciiDigit(c) ? c - '0' : -1);
            if (digit < 0)
                break;
            ulong radix = hex ? 16UL : 10UL;
            if (v > (ulong.MaxValue - (ulong)digit) / radix)
                overflow = true;
            else
                v = v * radix + (ulong)digit;
        }
        if (i == start)
            return NumberResult.Invalid();

        var suffix = body[i..];
        ulong multiplier = 1;
        if (suffix.Length > 0)
        {
            if (suffix[0] == '.' || suffix[0] == ',')
                return NumberResult.Invalid("fractions are not supported; use a smaller unit, e.g. 1536K");
            if (!Suffixes.TryGetValue(suffix, out multiplier))
                return NumberResult.Invalid(allowSuffix && char.IsAsciiLetter(suffix[0])
                    ? $"unknown suffix {Echo.Quote(suffix)}; use {SuffixList}"
                    : null);
            if (!allowSuffix)
                return NumberResult.Invalid("no size suffix allowed here");
            suffixed = true;
        }
        if (overflow || v > ulong.MaxValue / multiplier)
            return NumberResult.Overflow();
        value = v * multiplier;
        return new NumberResult(NumberStatus.Ok, 0, suffixed, null);
    }

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Writes a byte count the way a scenario would: the largest exact binary suffix
    /// (64K, 2M), else decimal.</summary>
    public static string FormatSize(long bytes)
    {
        if (bytes != 0 && bytes != long.MinValue)
        {
            foreach (var (suffix, shift) in new[] { ("T", 40), ("G", 30), ("M", 20), ("K", 10) })
            {
                long unit = 1L << shift;
                if (bytes % unit == 0)
                    return (bytes / unit).ToString(CultureInfo.InvariantCulture) + suffix;
            }
        }
        return bytes.ToString(CultureInfo.InvariantCulture);
    }
}
