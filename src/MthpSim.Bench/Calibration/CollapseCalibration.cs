using System.Globalization;
using System.Text;
using MthpSim.Bench.Live;
using MthpSim.Core.Khugepaged;

namespace MthpSim.Bench.Calibration;

/// <summary>
/// Fits <see cref="CollapseCostModel"/> to the live kernel (docs/collapse-cost.md): MADV_COLLAPSE of
/// 2M ranges holding 1, 64, 256 and 512 written pages (the rest none), memset() of 4K pages (what the
/// kernel's clear_page() costs: the same instruction), and khugepaged full scans whose every window
/// is read whole and fails on its last PTE (what reading a PTE costs). Each is the median of <c>runs</c> runs of <c>mthp_bench</c>,
/// under the settings it needs, saved and restored as every live measurement is.
/// </summary>
public static class CollapseCalibration
{
    const long Region = 256L << 20;   // 128 PMD ranges
    const int Ptes = 512;
    public static readonly int[] Fills = [1, 64, 256, 512];

    public sealed record Measurement(string What, double NsPerUnit, string Unit);

    /// <param name="Overshoot">How far zeroing and PTE reads, measured on their own, exceed the MADV_COLLAPSE line at 0 pages
    /// written (ns; 0 when they fit under it): more than nothing means one of the measurements was disturbed.</param>
    public sealed record Result(CollapseCostModel Model, IReadOnlyList<Measurement> Measured, IReadOnlyList<(int Fill, double MeasuredNs, double PredictedNs)> Collapse, double Overshoot);

    static LiveBenchSpec Spec(Dictionary<string, string> settings, params string[] args) => new(settings, args);

    public static Result Run(LiveBench live, int runs, Action<string>? log = null)
    {
        double Median(LiveBenchSpec spec, string what) => live.MedianNsPerUnit(spec, runs, what, log).NsPerUnit;
        string len = Region.ToString(CultureInfo.InvariantCulture);
        var measured = new List<Measurement>();
        var baseOnly = new Dictionary<string, string> { ["enabled"] = "never" };
        var collapse = new Dictionary<int, double>();
        // A first MADV_COLLAPSE run on a fresh machine measured 10x the next ones: one run is discarded.
        log?.Invoke("MADV_COLLAPSE: warm-up run");
        live.Measure(Spec(baseOnly, "collapse", len, "1"));
        foreach (int fill in Fills)
        {
            collapse[fill] = Median(Spec(baseOnly, "collapse", len, fill.ToString(CultureInfo.InvariantCulture)), $"MADV_COLLAPSE, {fill} of 512 pages written");
            measured.Add(new($"MADV_COLLAPSE of a 2M range, {fill} of 512 pages written", collapse[fill], "range"));
        }
        double zero = Median(Spec(baseOnly, "memset", len), "memset of 4K pages");
        measured.Add(new("memset() of a 4K page (what clear_page() does)", zero, "page"));
        double pte = Median(KhugepagedScan(Region, 4), "khugepaged full scans");
        measured.Add(new("khugepaged full scan, every window read whole", pte, "PTE"));

        // T(fill) = attempt + 2 * 512 PTE reads (scan, isolation) + fill * copy + (512 - fill) * zero: linear in
        // fill; its slope is copy - zero, and what is left at fill 0 beyond zeroing and reading is the attempt.
        var (slope, intercept) = LeastSquares(Fills.Select(f => ((double)f, collapse[f])).ToList());
        double copy = slope + zero;
        double rest = intercept - Ptes * zero - 2 * Ptes * pte;
        double attempt = Math.Max(0, rest);
        var model = new CollapseCostModel(Round(pte), Round(attempt), Round(copy), Round(zero));
        var check = Fills.Select(f => (f, collapse[f], model.AttemptNs + 2 * Ptes * model.PteReadNs + f * model.PageCopyNs + (Ptes - f) * model.PageZeroNs)).ToList();
        return new Result(model, measured, check, Math.Max(0, -rest));
    }

    /// <summary>khugepaged's full scans of a <paramref name="len"/>-byte region whose every window is read whole and fails on its last PTE; ns per PTE of khugepaged's CPU time.</summary>
    public static LiveBenchSpec KhugepagedScan(long len, int passes) => Spec(new Dictionary<string, string>
    {
        ["enabled"] = "madvise", ["khugepaged/max_ptes_none"] = "0", ["khugepaged/scan_sleep_millisecs"] = "0", ["khugepaged/pages_to_scan"] = "4096",
    }, "khugepaged-scan", len.ToString(CultureInfo.InvariantCulture), passes.ToString(CultureInfo.InvariantCulture));

    /// <summary>Three significant digits: more would claim a precision the VM does not have.</summary>
    static double Round(double v) => v == 0 ? 0 : Math.Round(v, Math.Max(0, 2 - (int)Math.Floor(Math.Log10(Math.Abs(v)))));

    static (double Slope, double Intercept) LeastSquares(List<(double X, double Y)> points)
    {
        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        double sxy = points.Sum(p => (p.X - mx) * (p.Y - my)), sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        double slope = sxy / sxx;
        return (slope, my - slope * mx);
    }

    public static string Report(Result r, CollapseCostModel current)
    {
        var sb = new StringBuilder();
        sb.Append("measured (medians)\n");
        foreach (var m in r.Measured) sb.Append(CultureInfo.InvariantCulture, $"  {m.What,-52} {m.NsPerUnit,12:N0} ns per {m.Unit}\n");
        sb.Append("\nfitted                built in (CollapseCostModel.Default)\n");
        void Row(string name, double fitted, double now) =>
            sb.Append(CultureInfo.InvariantCulture, $"  {name,-14} {fitted,10:N1} ns   {now,10:N1} ns   {(now == 0 ? 0 : (fitted - now) / now * 100),6:+0;-0;0} %\n");
        Row("PTE read", r.Model.PteReadNs, current.PteReadNs);
        Row("attempt", r.Model.AttemptNs, current.AttemptNs);
        Row("page copied", r.Model.PageCopyNs, current.PageCopyNs);
        Row("page zeroed", r.Model.PageZeroNs, current.PageZeroNs);
        sb.Append("\nMADV_COLLAPSE of a 2M range: measured against the fitted model\n");
        foreach (var (fill, measured, predicted) in r.Collapse)
            sb.Append(CultureInfo.InvariantCulture, $"  {fill,3} of 512 written   {measured,10:N0} ns   {predicted,10:N0} ns   {(predicted - measured) / measured * 100,6:+0.0;-0.0;0.0} %\n");
        if (r.Overshoot > 0)
            sb.Append(CultureInfo.InvariantCulture, $"\nwarning: zeroing 512 pages and reading 1,024 PTEs, as measured on their own, exceed the MADV_COLLAPSE line at 0 pages written by {r.Overshoot:N0} ns, so the attempt is set to 0 and the line does not fit: a measurement was disturbed (a busy machine?); run it again on an idle one\n");
        sb.Append(CultureInfo.InvariantCulture, $"\nnew CollapseCostModel(PteReadNs: {r.Model.PteReadNs}, AttemptNs: {r.Model.AttemptNs}, PageCopyNs: {r.Model.PageCopyNs}, PageZeroNs: {r.Model.PageZeroNs})\n");
        return sb.ToString();
    }
}
