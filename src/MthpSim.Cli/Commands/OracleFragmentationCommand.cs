using System.CommandLine;
using System.Globalization;
using MthpSim.Oracle.Fragmentation;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim oracle fragmentation [--pin-share P] [--fill-headroom SIZE] [--measure SIZE] [--seed N] [--hold pinned|movable] [--json] [--others-movable] [--print-scenario]</c>:
/// the live validation of issue 18. Memory pinned in scattered pages, then the share of 2M and 64K
/// faults that succeed under each <c>defrag</c>, before and after compaction, on the live kernel and
/// in the simulator, side by side. Exit 0 when they agree within the tolerance, 1 when some phase or
/// trend differs, 2 for bad arguments, 3 when the live kernel cannot be used, 128+N on signal N.
/// </summary>
public static class OracleFragmentationCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var d = FragmentationExperiment.Default;
        var pinShare = new Option<double>("--pin-share") { Description = "Share of the fill's 2M blocks that get one pinned page (0 to 1)", DefaultValueFactory = _ => d.PinShare };
        var headroom = new Option<string>("--fill-headroom") { Description = "Memory left free by the fill (at least 3G)", DefaultValueFactory = _ => "3G" };
        var measure = new Option<string>("--measure") { Description = "Size of each measured region (a multiple of 2M)", DefaultValueFactory = _ => "4G" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the choice of blocks and pages (and the simulated machine's)", DefaultValueFactory = _ => d.Seed };
        var json = new Option<bool>("--json") { Description = "Machine-readable output" };
        var othersMovable = new Option<bool>("--others-movable") { Description = "Model other programs' AnonPages + Shmem as movable memory of a process of their own (default: all of MemTotal - MemAvailable as unmovable kernel memory)" };
        var hold = new Option<string>("--hold") { Description = "What is done to the page kept in each chosen 2M block: pinned long-term (io_uring fixed buffers), or movable (only kept mapped, so compaction can move it)", DefaultValueFactory = _ => "pinned" };
        hold.AcceptOnlyFromAmong("pinned", "movable");
        var unmatched = new Option<bool>("--unmatched") { Description = "Keep the model's held memory as /proc/meminfo gave it at the start, instead of matching the model's free 2M blocks to the live machine's when the first phase began" };
        var print = new Option<bool>("--print-scenario") { Description = "Print the simulator's scenario for this machine's /proc/meminfo instead of running (no live kernel needed; run it with 'mthpsim run -')" };
        var cmd = new Command("fragmentation", "Pin scattered pages, then compare the share of 2M and 64K faults that succeed under each defrag, before and after compaction, on the live kernel and in the simulator") { pinShare, headroom, measure, seed, hold, json, print, othersMovable, unmatched };
        // A signal during the live run is the settings guard's: it kills the driver, restores every setting and the run returns interrupted.
        cmd.SetAction(pr =>
        {
            long? h = FragmentationExperiment.ParseSize(pr.GetValue(headroom)!), m = FragmentationExperiment.ParseSize(pr.GetValue(measure)!);
            if (h == null) { stderr.WriteLine($"mthpsim oracle fragmentation: --fill-headroom: not a size: '{pr.GetValue(headroom)}'"); return 2; }
            if (m == null) { stderr.WriteLine($"mthpsim oracle fragmentation: --measure: not a size: '{pr.GetValue(measure)}'"); return 2; }
            var exp = new FragmentationExperiment(pr.GetValue(pinShare), h.Value, m.Value, pr.GetValue(seed), pr.GetValue(othersMovable), pr.GetValue(hold) == "movable");
            if (exp.Invalid() is string why) { stderr.WriteLine($"mthpsim oracle fragmentation: {why}"); return 2; }
            if (pr.GetValue(print))
            {
                var geo = MachineGeometry.ReadLive();
                stdout.Write(SimulatedFragmentation.Scenario(exp, geo, geo.Fill(exp.FillHeadroom)).Text);
                return 0;
            }
            LiveFragmentation.Result live;
            try
            {
                live = LiveFragmentation.Run(exp, msg => stderr.WriteLine($"oracle fragmentation: {msg}"), out var signal);
                if (signal is { } s)
                {
                    stderr.WriteLine($"mthpsim oracle fragmentation: interrupted by {s}; settings restored");
                    return SettingsGuard.ExitStatus(s);
                }
            }
            catch (OracleUnavailableException e)
            {
                stderr.WriteLine($"mthpsim oracle fragmentation: live kernel unavailable: {e.Message}");
                return 3;
            }
            catch (InvalidOperationException e)
            {
                stderr.WriteLine($"mthpsim oracle fragmentation: {e.Message}");
                return 1;
            }
            stderr.WriteLine("oracle fragmentation: simulator");
            var liveFree = live.Phases[FragmentationExperiment.Phases[0].Name].FreeBlocks;
            var sim = pr.GetValue(unmatched) || liveFree == null
                ? SimulatedFragmentation.Run(exp, live.Geometry, live.Fill)
                : SimulatedFragmentation.RunMatched(exp, live.Geometry, live.Fill, liveFree.Value);
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"oracle fragmentation: simulator done in {sim.Seconds:F1} s"));
            var cmp = FragmentationComparison.Compare(exp, live, sim);
            stdout.Write(pr.GetValue(json) ? cmp.Json() : cmp.Text());
            return cmp.Agrees ? 0 : 1;
        });
        return cmd;
    }
}
