namespace MthpSim.Scenario.Syntax;

// Virtual time and background work: sleep, khugepaged scan, khugepaged full-scans.
public sealed partial class ScenarioParser
{
    private const string DurationExpected = "a duration (e.g. 500ms, 10s, 2m, 24h)";

    private SleepStmt ParseSleep(TokenCursor c, SourceSpan span, string text)
    {
        var t = c.Next(DurationExpected);
        var r = NumberSyntax.ParseDurationMs(t.Text);
        if (!r.Ok)
            throw NumberError(t, r, DurationExpected, t.Text, null);
        if (r.Value < 0)
            throw Error(t, $"duration must not be negative, got {Echo.Quote(t.Text)}");
        c.End("sleep");
        return new SleepStmt(span, text, r.Value);
    }

    private Statement ParseKhugepaged(TokenCursor c, SourceSpan span, string text)
    {
        var what = OneOf(c, "a khugepaged command", ["scan", "full-scans"]);
        if (what == "scan")
        {
            long? rounds = c.TryNext(out var n) ? Count(n) : null;
            c.End("khugepaged scan");
            return new KhugepagedScanStmt(span, text, rounds);
        }
        var count = Count(c.Next(CountExpected));
        c.End("khugepaged full-scans");
        return new KhugepagedFullScansStmt(span, text, count);
    }
}
