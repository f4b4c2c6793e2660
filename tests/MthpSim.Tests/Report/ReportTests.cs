using System.Text.RegularExpressions;
using MthpSim.Tests.Cli;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Report;

/// <summary>
/// <c>mthpsim report</c>: one self-contained HTML file (no address outside it), of a sweep's results
/// or of a scenario, whose every chart draws in headless Chromium without a script error.
/// </summary>
public class ReportTests
{
    static string TempDir() => Directory.CreateTempSubdirectory("mthpsim-report-").FullName;

    /// <summary>The seed thread's sweep (220 cells), run in-process, and its report.</summary>
    static (string Dir, string Results) SeedThreadResults()
    {
        string dir = TempDir(), results = Path.Combine(dir, "seed-thread.jsonl");
        var run = CliRunner.Run("sweep", Path.Combine(RepoPaths.Root, "scenarios/sweeps/seed-thread.grid"), "-o", results, "--jobs", "2");
        Assert.True(run.code == 0, run.stdout + run.stderr);
        return (dir, results);
    }

    /// <summary>Nothing in the page points outside it: no script, style, image or link by address.</summary>
    static void AssertSelfContained(string html)
    {
        // The inlined libraries' text mentions such tags in strings: only the page's own markup counts.
        string markup = Regex.Replace(html, "<script>.*?</script>", "<script></script>", RegexOptions.Singleline);
        Assert.DoesNotMatch(new Regex(@"<script\s", RegexOptions.IgnoreCase), markup);   // every script inline, none by src
        Assert.DoesNotMatch(new Regex(@"<(img|iframe|embed|object)\b|<link\b|\ssrc=", RegexOptions.IgnoreCase), markup);
        Assert.DoesNotMatch(new Regex(@"@import|url\(", RegexOptions.IgnoreCase), markup);
        Assert.Equal(4, Regex.Matches(markup, "<script></script>").Count - 1);   // error hook, three libraries, the charts
    }

    [Fact]
    public void A_sweep_report_has_a_heat_map_and_lines_per_metric_and_is_self_contained()
    {
        var (dir, results) = SeedThreadResults();
        string html = Path.Combine(dir, "r.html");
        var (code, stdout, stderr) = CliRunner.Run("report", results, "-o", html, "--metric", "vmstat/thp_collapse_alloc");
        Assert.True(code == 0, stdout + stderr);
        string text = File.ReadAllText(html);
        AssertSelfContained(text);
        Assert.Contains("220 cells: 11 input(s) x 4 policy x 5 khugepaged/max_ptes_none", text);
        // max_ptes_none (numeric) along x, the designs as the other axis; one panel per scenario.
        Assert.Contains("collapses over khugepaged/max_ptes_none and policy", text);
        Assert.Contains("collapses along khugepaged/max_ptes_none", text);
        Assert.Contains("vmstat/thp_collapse_alloc over khugepaged/max_ptes_none and policy", text);
        Assert.Matches(@"report: .*r\.html \(\d+ charts\)", stdout);
    }

    [Fact]
    public void A_scenario_report_maps_the_address_space_and_compares_the_designs()
    {
        string dir = TempDir(), html = Path.Combine(dir, "s.html");
        var (code, stdout, stderr) = CliRunner.Run("report", Path.Combine(RepoPaths.Root, "scenarios/policies/nico-pache-8-of-16.mthp"), "-o", html);
        Assert.True(code == 0, stdout + stderr);
        string text = File.ReadAllText(html);
        AssertSelfContained(text);
        Assert.Contains("what maps each VMA, by folio size", text);
        Assert.Contains("\"VMA\":\"p 40000000-42000000\"", text);
        // The bitmap RFC collapses the half-filled ranges to 64K (Nico's "creep" complaint); the others do not.
        Assert.Matches("<tr><td>mthp-bitmap-rfc</td><td>528</td>", text);
        Assert.Matches("<tr><td>pmd-only</td><td>0</td>", text);
    }

    [Fact]
    public void What_a_report_cannot_use_is_refused_with_exit_2()
    {
        var (dir, results) = SeedThreadResults();
        var badAxis = CliRunner.Run("report", results, "-o", Path.Combine(dir, "x.html"), "--x", "khugepaged/max_ptes_swap");
        Assert.Equal(2, badAxis.code);
        Assert.Contains("--x khugepaged/max_ptes_swap: the results have no such axis; they have policy, khugepaged/max_ptes_none", badAxis.stderr);
        var badMetric = CliRunner.Run("report", results, "-o", Path.Combine(dir, "m.html"), "--metric", "vmstat/thp_colapse_alloc");
        Assert.Equal(2, badMetric.code);
        Assert.Contains("--metric vmstat/thp_colapse_alloc: no result has this counter", badMetric.stderr);
        var ownPolicy = CliRunner.Run("report", Path.Combine(RepoPaths.Root, "scenarios/policies/creep-384/mthp.mthp"), "-o", Path.Combine(dir, "p.html"), "--policy", "pmd-only");
        Assert.Equal(2, ownPolicy.code);
        Assert.Contains("chooses the collapse design itself, so the report does not compare designs", ownPolicy.stderr);
        string garbage = Path.Combine(dir, "g.jsonl");
        File.WriteAllText(garbage, "not json\n{}\n");
        var notResults = CliRunner.Run("report", garbage, "-o", Path.Combine(dir, "g.html"));
        Assert.Equal(2, notResults.code);
        Assert.Contains("g.jsonl:1: not a sweep result", notResults.stderr);
        Assert.Contains("no such file", CliRunner.Run("report", Path.Combine(dir, "none.jsonl"), "-o", Path.Combine(dir, "n.html")).stderr);
    }

    [SkippableFact]
    public void Every_chart_of_both_kinds_of_report_draws_in_headless_Chromium()
    {
        string? why = HeadlessChromium.Unavailable();
        Skip.If(why != null, why);
        var (dir, results) = SeedThreadResults();
        string sweep = Path.Combine(dir, "sweep.html"), scenario = Path.Combine(dir, "scenario.html");
        Assert.Equal(0, CliRunner.Run("report", results, "-o", sweep).code);
        Assert.Equal(0, CliRunner.Run("report", Path.Combine(RepoPaths.Root, "scenarios/policies/creep-384.mthp"), "-o", scenario).code);
        foreach (var html in new[] { sweep, scenario })
        {
            string dom = HeadlessChromium.DumpDom(html);
            var body = Regex.Match(dom, "<body data-charts=\"(\\d+)\" data-drawn=\"(\\d+)\" data-errors=\"(\\d+)\" data-done=\"true\">");
            Assert.True(body.Success, $"{html}: the page's script did not finish:\n{dom[..Math.Min(dom.Length, 2000)]}");
            int charts = int.Parse(body.Groups[1].Value), drawn = int.Parse(body.Groups[2].Value), errors = int.Parse(body.Groups[3].Value);
            Assert.True(errors == 0, $"{html}: script errors: {Regex.Match(dom, "<pre id=\"errors\">([^<]*)</pre>").Groups[1].Value}");
            Assert.True(charts > 0 && drawn == charts, $"{html}: {drawn} of {charts} charts drew");
            // Each chart's SVG has marks: a drawn but empty chart has its axes and no mark paths.
            var divs = Regex.Matches(dom, "<div class=\"chart[^\"]*\" id=\"chart(\\d+)\"(.*?)</svg>", RegexOptions.Singleline);
            Assert.Equal(charts, divs.Count);
            foreach (Match d in divs)
                Assert.True(Regex.IsMatch(d.Groups[2].Value, "class=\"mark-(rect|line|symbol|text)[^\"]*\"[^>]*>\\s*<(path|g)"), $"{html}: chart {d.Groups[1].Value} has no marks");
        }
        string png = Path.Combine(dir, "sweep.png");
        HeadlessChromium.Screenshot(sweep, png, 2000);
        Assert.True(new FileInfo(png).Length > 20_000, "the screenshot is (nearly) empty");
    }
}
