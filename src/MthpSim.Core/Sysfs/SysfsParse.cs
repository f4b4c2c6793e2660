namespace MthpSim.Core.Sysfs;

/// <summary>The kernel's string-to-number helpers as sysfs store functions use them (lib/kstrtox.c).</summary>
public static class SysfsParse
{
    /// <summary>models sysfs_streq(): equal, allowing one trailing newline on either side.</summary>
    public static bool Streq(string a, string b) => a.TrimEnd('\n') == b && (a.Length - a.TrimEnd('\n').Length) <= 1;

    /// <summary>models kstrtoull(s, 10): optional '+', decimal digits, one optional trailing newline.</summary>
    public static int KstrtoUlong(string s, ulong max, out ulong value)
    {
        value = 0;
        if (s.EndsWith('\n')) s = s[..^1];
        if (s.StartsWith('+')) s = s[1..];
        if (s.Length == 0) return -Errno.EINVAL;
        foreach (char c in s)
        {
            if (c < '0' || c > '9') return -Errno.EINVAL;
            ulong d = (ulong)(c - '0');
            if (value > (max - d) / 10) return -Errno.ERANGE;
            value = value * 10 + d;
        }
        return 0;
    }

    /// <summary>models kstrtobool(): y/Y/1/on → true, n/N/0/off → false.</summary>
    public static int Kstrtobool(string s, out bool value)
    {
        value = false;
        if (s.Length == 0) return -Errno.EINVAL;
        switch (s[0])
        {
            case 'y' or 'Y' or '1': value = true; return 0;
            case 'n' or 'N' or '0': value = false; return 0;
            case 'o' or 'O' when s.Length > 1:
                switch (s[1])
                {
                    case 'n' or 'N': value = true; return 0;
                    case 'f' or 'F': value = false; return 0;
                }
                break;
        }
        return -Errno.EINVAL;
    }

    /// <summary>Renders a choice file as the kernel does: every word, the selected one in brackets.</summary>
    public static string Choice(string[] words, int selected) =>
        string.Join(' ', words.Select((w, i) => i == selected ? $"[{w}]" : w));

    /// <summary>The selected word of a choice file's text, or null when the text is not a choice.</summary>
    public static string? SelectedWord(string text)
    {
        int a = text.IndexOf('['), b = text.IndexOf(']');
        return a >= 0 && b > a ? text[(a + 1)..b] : null;
    }
}
