using System.Globalization;
using System.Text.RegularExpressions;
using MthpSim.Oracle.Settings;
using MthpSim.Tests.Cli;

namespace MthpSim.Tests.Oracle;

/// <summary>`mthpsim calibrate cost` on the live kernel: every loop measured and predicted, the fit close to what it measured, and the settings come back.</summary>
[Collection("live kernel")]
public partial class CostCalibrationLiveTests
{
    /// <summary>Every THP setting (the per-size counters and khugepaged's aside).</summary>
    static Dictionary<string, string> Settings() =>
        Directory.EnumerateFiles(LiveSettings.Root, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/stats/", StringComparison.Ordinal) && !f.EndsWith("full_scans", StringComparison.Ordinal) && !f.EndsWith("pages_collapsed", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToDictionary(f => f, f => { try { return File.ReadAllText(f); } catch (IOException e) { return e.Message; } });

    [GeneratedRegex(@"^(?<name>\S+)\s+(page|2M range)\s+(?<measured>[\d,.]+)\s+(?<predicted>[\d,.]+)\s+[+-]?[\d.]+%", RegexOptions.Multiline)]
    private static partial Regex Row();

    [LiveKernelFact]
    public void Calibration_predicts_its_loops_and_restores_the_settings()
    {
        var before = Settings();
        var (code, stdout, stderr) = CliRunner.Run("calibrate", "cost", "--runs", "1");
        // 1: a validation loop off by more than 20 % (cow-4K is, on this VM: docs/cost-model.md)
        Assert.True(code is 0 or 1, stderr);
        Assert.Equal(before, Settings());
        var rows = Row().Matches(stdout).ToDictionary(m => m.Groups["name"].Value, m => (
            Measured: double.Parse(m.Groups["measured"].Value, NumberStyles.Number, CultureInfo.InvariantCulture),
            Predicted: double.Parse(m.Groups["predicted"].Value, NumberStyles.Number, CultureInfo.InvariantCulture)));
        Assert.Equal(19, rows.Count);
        // One run each on a shared VM: every loop but the COW ones (whose 4K case the work does not
        // explain) within a factor of two of the fit.
        foreach (var (name, r) in rows.Where(r => !r.Key.StartsWith("cow-", StringComparison.Ordinal)))
            Assert.True(r.Predicted / r.Measured is >= 0.5 and <= 2.0, $"{name}: predicted / measured = {r.Predicted / r.Measured:F2}\n{stdout}");
        Assert.Contains("KernelCostModel.FromFit(", stdout);
    }
}
