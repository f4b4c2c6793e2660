using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MthpSim.Oracle.Fragmentation;

/// <summary>
/// Live against simulated, phase by phase, with the tolerance of issue 18: each phase's success
/// fraction within <see cref="Tolerance"/> (absolute), and each trend the experiment is about (with
/// compaction in the fault against without; after compact_memory against before; 64K against 2M)
/// moving the same way on both sides: not up on one and down on the other beyond
/// <see cref="DeadBand"/>, and by amounts within the tolerance of each other.
/// </summary>
public sealed class FragmentationComparison
{
    public const double Tolerance = 0.10;
    /// <summary>A change smaller than this is flat: a few faults' worth of noise.</summary>
    public const double DeadBand = 0.02;

    public sealed record PhaseRow(string Phase, PhaseCounts Live, PhaseCounts Sim, double Difference, bool Agrees);
    public sealed record TrendRow(string Trend, string From, string To, double LiveChange, double SimChange, bool Agrees);

    public required FragmentationExperiment Experiment { get; init; }
    public required LiveFragmentation.Result Live { get; init; }
    public required SimulatedFragmentation.Result Sim { get; init; }
    public List<PhaseRow> Phases { get; } = new();
    public List<TrendRow> Trends { get; } = new();
    public bool Agrees => Sim.Aborted == null && Phases.All(p => p.Agrees) && Trends.All(t => t.Agrees);

    public static FragmentationComparison Compare(FragmentationExperiment exp, LiveFragmentation.Result live, SimulatedFragmentation.Result sim)
    {
        var c = new FragmentationComparison { Experiment = exp, Live = live, Sim = sim };
        if (sim.Aborted != null) return c;
        foreach (var p in FragmentationExperiment.Phases)
        {
            var (l, s) = (live.Phases[p.Name], sim.Phases[p.Name]);
            double d = s.Fraction - l.Fraction;
            c.Phases.Add(new PhaseRow(p.Name, l, s, d, Math.Abs(d) <= Tolerance));
        }
        c.Trend("direct compaction in the fault", "2m-never", "2m-madvise");
        c.Trend("after compact_memory", "2m-never", "2m-after-compact");
        c.Trend("64K against 2M", "2m-never", "64k-never");
        return c;
    }

    void Trend(string name, string from, string to)
    {
        double l = Live.Phases[to].Fraction - Live.Phases[from].Fraction, s = Sim.Phases[to].Fraction - Sim.Phases[from].Fraction;
        bool opposite = (l > DeadBand && s < -DeadBand) || (l < -DeadBand && s > DeadBand);
        Trends.Add(new TrendRow(name, from, to, l, s, !opposite && Math.Abs(l - s) <= Tolerance));
    }

    static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
    static string S(double v) => (v >= 0 ? "+" : "") + F(v);

    public string Text()
    {
        var sb = new StringBuilder();
        var geo = Live.Geometry;
        sb.AppendLine(CultureInfo.InvariantCulture, $"mthpsim oracle fragmentation: live kernel {Live.KernelRelease}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"machine: MemTotal {geo.MemTotal >> 20}M, MemAvailable {geo.MemAvailable >> 20}M (simulated: memory {geo.SimulatedMemory >> 20}M, {(Experiment.OthersMovable ? geo.Held - geo.HeldMovable : geo.Held) >> 20}M unmovable clustered{(Experiment.OthersMovable ? $", {geo.HeldMovable >> 20}M movable in a process of its own" : "")})");
        if (Sim.UnmatchedFreeBlocks is long before)
            sb.AppendLine(CultureInfo.InvariantCulture, $"free 2M blocks matched: the model began the first phase with {before} free 2M blocks and the live machine with {Live.Phases[FragmentationExperiment.Phases[0].Name].FreeBlocks}, so the model's held memory was changed by {(Sim.HeldAdjust >= 0 ? "+" : "")}{Sim.HeldAdjust >> 20}M and it ran again (--unmatched: not)");
        sb.AppendLine(CultureInfo.InvariantCulture, $"fill {Live.Fill >> 20}M in base pages; pin share {Experiment.PinShare.ToString(CultureInfo.InvariantCulture)} (seed {Experiment.Seed}): live {Live.Pinned} pages {(Experiment.Movable ? "kept (movable, not pinned)" : "pinned")} in {Live.FillBlocks} physical 2M blocks of the fill, simulator {Sim.Pinned}; measure {Experiment.Measure >> 20}M per phase");
        if (Sim.Aborted != null)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"the simulator's run stopped: {Sim.Aborted}");
            return sb.ToString();
        }
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"phase",-18} {"faults",7} {"live",7} {"sim",7} {"diff",7}  {"verdict",-8} {"free blocks live/sim",21}  live: stall/success/fail migrated   sim: stall/success/fail migrated");
        foreach (var r in Phases)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{r.Phase,-18} {r.Live.Faults,7} {F(r.Live.Fraction),7} {F(r.Sim.Fraction),7} {S(r.Difference),7}  {(r.Agrees ? "agree" : "DIFFER"),-8} {r.Live.FreeBlocks + "/" + r.Sim.FreeBlocks,21}  " +
                $"{r.Live.CompactStall}/{r.Live.CompactSuccess}/{r.Live.CompactFail} {r.Live.PgmigrateSuccess,-10}   {r.Sim.CompactStall}/{r.Sim.CompactSuccess}/{r.Sim.CompactFail} {r.Sim.PgmigrateSuccess}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"simulated buddyinfo after the fill was freed (one page left per block shows as one free block of each order 0-8): {Sim.Buddyinfo}");
        sb.AppendLine("(free blocks: free memory in blocks of the phase's folio size or larger when it began, in blocks of that size, all zones)");
        if (Live.Phases.TryGetValue("64k-never", out var l64) && l64.AltFolios is long alt)
            sb.AppendLine(CultureInfo.InvariantCulture, $"(live 64K: {l64.Folios} by hugepages-64kB/stats/anon_fault_alloc, machine-wide; {alt} seen in the process's pagemap)");
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"trend",-48} {"live",7} {"sim",7}  verdict");
        foreach (var t in Trends)
            sb.AppendLine(CultureInfo.InvariantCulture, $"{t.Trend + " (" + t.To + ")",-48} {S(t.LiveChange),7} {S(t.SimChange),7}  {(t.Agrees ? "agree" : "DIFFER")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"tolerance: each fraction within {F(Tolerance)} absolute; a trend agrees when it does not go up on one side and down on the other (beyond {F(DeadBand)}) and the changes are within {F(Tolerance)} of each other");
        sb.AppendLine(Agrees ? "AGREE" : "DIFFER");
        return sb.ToString();
    }

    public string Json()
    {
        object Counts(PhaseCounts p) => new { faults = p.Faults, folios = p.Folios, fraction = p.Fraction, freeBlocks = p.FreeBlocks, compactStall = p.CompactStall, compactSuccess = p.CompactSuccess, compactFail = p.CompactFail, pgmigrateSuccess = p.PgmigrateSuccess, altFolios = p.AltFolios };
        var doc = new
        {
            kernelRelease = Live.KernelRelease,
            pinShare = Experiment.PinShare, hold = Experiment.Hold, seed = Experiment.Seed, fillHeadroom = Experiment.FillHeadroom, measure = Experiment.Measure,
            memTotal = Live.Geometry.MemTotal, memAvailable = Live.Geometry.MemAvailable, fill = Live.Fill,
            simulatedMemory = Live.Geometry.SimulatedMemory, othersMovable = Experiment.OthersMovable, simulatedHeld = Live.Geometry.Held, simulatedHeldMovable = Experiment.OthersMovable ? Live.Geometry.HeldMovable : 0,
            simulatedHeldAdjust = Sim.HeldAdjust, simUnmatchedFreeBlocks = Sim.UnmatchedFreeBlocks,
            livePinned = Live.Pinned, liveFillBlocks = Live.FillBlocks, simPinned = Sim.Pinned, simBuddyinfo = Sim.Buddyinfo, simAborted = Sim.Aborted,
            tolerance = Tolerance, deadBand = DeadBand,
            phases = Phases.Select(r => new { phase = r.Phase, live = Counts(r.Live), sim = Counts(r.Sim), difference = r.Difference, agrees = r.Agrees }),
            trends = Trends.Select(t => new { trend = t.Trend, from = t.From, to = t.To, liveChange = t.LiveChange, simChange = t.SimChange, agrees = t.Agrees }),
            agrees = Agrees,
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
