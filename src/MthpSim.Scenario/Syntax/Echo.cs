using System.Globalization;
using System.Text;

namespace MthpSim.Scenario.Syntax;

/// <summary>
/// How a diagnostic shows text it took from the input: every character that would not show as
/// itself on a terminal (control and format characters, whitespace other than a space) is written
/// as an escape (<c>\x00</c>, <c>\u202e</c>), a backslash is doubled so an escape is never
/// ambiguous, and a long word is cut to a short prefix, so an error stays one readable line.
/// </summary>
public static class Echo
{
    /// <summary>Characters of a word shown before the cut.</summary>
    public const int MaxChars = 64;

    /// <summary>The word in single quotes, escaped and, when longer than <see cref="MaxChars"/>, cut
    /// with its length: <c>'12345...' (5000 characters)</c>.</summary>
    public static string Quote(string? s)
    {
        s ??= "";
        return s.Length <= MaxChars ? $"'{Escape(s)}'" : string.Create(CultureInfo.InvariantCulture, $"'{Short(s)}' ({s.Length} characters)");
    }

    /// <summary>The word escaped and, when longer than <see cref="MaxChars"/>, cut to a prefix and "...".</summary>
    public static string Short(string s)
    {
        if (s.Length <= MaxChars) return Escape(s);
        // Never cut between the halves of a surrogate pair.
        int cut = char.IsHighSurrogate(s[MaxChars - 1]) ? MaxChars - 1 : MaxChars;
        return Escape(s[..cut]) + "...";
    }

    /// <summary>The text with every character that does not show as itself escaped; never cut (for paths).</summary>
    public static string Escape(string s)
    {
        if (!s.Any(NeedsEscape)) return s;
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
        {
            if (c == '\\') sb.Append(@"\\");
            else if (!IsShown(c)) sb.Append(c < 0x100 ? $@"\x{(int)c:x2}" : $@"\u{(int)c:x4}");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    static bool NeedsEscape(char c) => c == '\\' || !IsShown(c);

    /// <summary>Whether the character shows as itself: not a control or format character, not a line
    /// or paragraph separator, no whitespace but the ASCII space, no private-use or unassigned code point.</summary>
    public static bool IsShown(char c)
    {
        if (c < 0x7f) return c >= 0x20;
        return char.GetUnicodeCategory(c) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.SpaceSeparator or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned => false,
            _ => true,
        };
    }
}
