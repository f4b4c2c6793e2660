namespace MthpSim.Scenario.Syntax;

/// <summary>"did you mean" hints: the closest candidate by edit distance (with adjacent
/// transpositions, so 'wrtie' is one edit from 'write'), if it is close enough to be a typo.</summary>
internal static class Suggestions
{
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        // Short words allow one edit, longer ones two or three; beyond that a hint misleads.
        int limit = word.Length <= 3 ? 1 : word.Length <= 6 ? 2 : 3;
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            if (candidate == word)
                continue;
            // Case-insensitive so 'Write' suggests 'write'.
            int d = Distance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d <= limit && d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }
        return best;
    }

    /// <summary>" (did you mean 'x'?)" or "" — ready to append to a message.</summary>
    public static string DidYouMean(string word, IEnumerable<string> candidates) =>
        Closest(word, candidates) is { } c ? $" (did you mean '{c}'?)" : "";

    /// <summary>Optimal string alignment distance (Levenshtein plus adjacent transposition).</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
