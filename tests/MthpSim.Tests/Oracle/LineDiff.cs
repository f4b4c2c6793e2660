namespace MthpSim.Tests.Oracle;

/// <summary>Lines of what `print` shows against what the kernel (or its tool) prints, from the second line on.</summary>
static class LineDiff
{
    /// <summary>Adds one mismatch per differing line after the first (the header, compared by the caller); <paramref name="ignore"/> leaves out lines of ours it names.</summary>
    public static void BodyLines(string where, IReadOnlyList<string> ours, IReadOnlyList<string> theirs, string whose, List<string> mismatches, Func<string, bool>? ignore = null)
    {
        for (int i = 1; i < Math.Max(ours.Count, theirs.Count); i++)
        {
            string a = i < ours.Count ? ours[i] : "(nothing)", b = i < theirs.Count ? theirs[i] : "(nothing)";
            if (a != b && ignore?.Invoke(a) != true) mismatches.Add($"{where} line {i + 1}: print shows '{a}', {whose} '{b}'");
        }
    }
}
