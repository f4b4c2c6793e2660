using System.Globalization;
using System.Text;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Oracle.Fragmentation;

/// <summary>
/// The simulator's side of the experiment: the same geometry as a scenario, built in memory and run
/// with <see cref="ScenarioRunner"/>. Approximations: the kernel and other programs' memory at the
/// start (MemTotal − MemAvailable, page cache included) is taken as unmovable kernel memory packed
/// into pageblocks of its own (<c>age unmovable ... clustered</c>); the model has one zone (the live
/// machine has DMA, DMA32 and Normal) and no per-cpu page lists. The pinned page of each block is
/// chosen in the process's 2M virtual blocks: the model allocates order-0 pages in ascending physical
/// order, so one page per 512 virtual pages lands one per physical block (the scenario prints
/// buddyinfo after the fill is freed so this can be seen: every block of the fill is then free but
/// for one page).
/// </summary>
public static class SimulatedFragmentation
{
    const long FillAddress = 0x100_0000_0000;     // 1T: far from anything else the model maps
    const long MeasureAddress = 0x200_0000_0000;
    const long OthersAddress = 0x300_0000_0000;

    public sealed class Result
    {
        public required string Scenario { get; init; }
        public Dictionary<string, PhaseCounts> Phases { get; } = new(StringComparer.Ordinal);
        public long Pinned { get; set; }
        /// <summary>Bytes added to (or taken from) the unmovable memory held at the start, to match the live machine's free 2M blocks.</summary>
        public long HeldAdjust { get; set; }
        /// <summary>The model's free 2M blocks when the first phase began, before the adjustment; null when it was not matched.</summary>
        public long? UnmatchedFreeBlocks { get; set; }
        public string Buddyinfo { get; set; } = "";
        public string? Aborted { get; set; }
        public double Seconds { get; set; }
    }

    /// <summary>The scenario, and for each print's line what it reads (phase.key).</summary>
    public static (string Text, Dictionary<int, string> Prints, long Pinned) Scenario(FragmentationExperiment exp, MachineGeometry geo, long fill, long heldAdjust = 0)
    {
        var sb = new StringBuilder();
        var prints = new Dictionary<int, string>();
        int line = 0;
        void L(string s) { sb.Append(s).Append('\n'); line++; }
        void Print(string what, string key) { L("print " + what); prints[line] = key; }
        static string K(long bytes) => (bytes >> 10).ToString(CultureInfo.InvariantCulture) + "K";

        L($"# mthpsim oracle fragmentation: pin share {exp.PinShare.ToString(CultureInfo.InvariantCulture)} ({exp.Hold}), seed {exp.Seed}, fill {K(fill)}, measure {K(exp.Measure)}");
        L($"machine memory={K(geo.SimulatedMemory)} seed={exp.Seed}");
        L("sysfs enabled = never");
        L("sysfs hugepages-2048kB/enabled = never");
        L("sysctl vm.compaction_proactiveness = 0");
        long movable = exp.OthersMovable ? geo.HeldMovable : 0;
        long unmovable = Math.Max(0, geo.Held - movable + heldAdjust);
        if (unmovable > 0) L($"age unmovable {K(unmovable)} clustered");
        if (movable > 0)
        {
            // Other programs' anon and shmem memory: movable, allocated before the fill.
            L("process others");
            L($"others mmap mem 0x{OthersAddress:x} {K(movable)}");
            L($"others write mem 0 {K(movable)} step=4K");
        }
        L("process q");
        L($"q mmap fill 0x{FillAddress:x} {K(fill)}");
        L($"q madvise fill 0 {K(fill)} nohugepage");
        L($"q write fill 0 {K(fill)} step=4K");
        // One page in a share of the 2M virtual blocks, chosen as the live driver chooses in physical blocks.
        var rng = new Random(unchecked((int)exp.Seed));
        long pages = fill / FragmentationExperiment.PageSize, perBlock = FragmentationExperiment.PmdSize / FragmentationExperiment.PageSize;
        var pinned = new List<long>();
        for (long b = 0; b * perBlock < pages; b++)
        {
            double u = rng.NextDouble();
            long pick = b * perBlock + rng.NextInt64(Math.Min(perBlock, pages - b * perBlock));
            if (u < exp.PinShare) pinned.Add(pick);
        }
        if (!exp.Movable) foreach (long p in pinned) L($"q pin fill {K(p * FragmentationExperiment.PageSize)} 4K");
        long prev = 0;
        foreach (long next in pinned.Append(pages))
        {
            if (next > prev) L($"q madvise fill {K(prev * FragmentationExperiment.PageSize)} {K((next - prev) * FragmentationExperiment.PageSize)} dontneed");
            prev = next + 1;
        }
        Print("buddyinfo", "buddyinfo");
        int n = 0;
        foreach (var ph in FragmentationExperiment.Phases)
        {
            string r = "m" + (++n).ToString(CultureInfo.InvariantCulture);
            L($"# phase {ph.Name}");
            L($"sysfs defrag = {ph.Defrag}");
            L($"sysfs {(ph.FolioSize == FragmentationExperiment.PmdSize ? "hugepages-64kB" : "hugepages-2048kB")}/enabled = never");
            L($"sysfs {ph.SizeKnob} = always");
            if (ph.CompactFirst) L("compact");
            L($"q mmap {r} 0x{MeasureAddress:x} {K(exp.Measure)}");
            if (ph.Madvised) L($"q madvise {r} 0 {K(exp.Measure)} hugepage");
            Print("buddyinfo", $"{ph.Name}.buddyinfo");
            foreach (var c in Counters) Print(c, $"{ph.Name}.before.{c}");
            L($"q write {r} 0 {K(exp.Measure)} step={K(ph.FolioSize)}");
            foreach (var c in Counters) Print(c, $"{ph.Name}.after.{c}");
            Print($"q smaps {r} AnonHugePages", $"{ph.Name}.anon_huge");
            L($"q munmap {r}");
        }
        return (sb.ToString(), prints, pinned.Count);
    }

    /// <summary>Free memory in blocks of at least <paramref name="order"/>, in blocks of that order, from buddyinfo's text.</summary>
    static long? FreeBlocks(string buddyinfo, int order)
    {
        var line = buddyinfo.Split('\n').FirstOrDefault(l => l.Contains("zone", StringComparison.Ordinal));
        if (line == null) return null;
        var counts = line[(line.IndexOf("zone", StringComparison.Ordinal) + 4)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        long n = 0;
        for (int o = order; o < counts.Length; o++) n += counts[o] << (o - order);
        return n;
    }

    static readonly string[] Counters =
    [
        "vmstat compact_stall", "vmstat compact_success", "vmstat compact_fail", "vmstat pgmigrate_success",
        "vmstat thp_fault_alloc", "sysfs hugepages-64kB/stats/anon_fault_alloc",
    ];

    /// <summary>
    /// Runs the model twice: as the geometry says, then with its held memory changed by the difference
    /// between its free 2M blocks and <paramref name="liveFreeBlocks"/> (the live machine's when its
    /// first phase began). What else runs on the live machine allocates and frees memory during the
    /// run, and MemAvailable counts page cache the fill does not take; matching the free blocks leaves
    /// the comparison with what the experiment is about: how faults and compaction use those blocks.
    /// </summary>
    public static Result RunMatched(FragmentationExperiment exp, MachineGeometry geo, long fill, long liveFreeBlocks)
    {
        var first = Run(exp, geo, fill);
        if (first.Aborted != null || first.Phases[FragmentationExperiment.Phases[0].Name].FreeBlocks is not long simFree) return first;
        long adjust = (simFree - liveFreeBlocks) * FragmentationExperiment.PmdSize;
        long unmovable = geo.Held - (exp.OthersMovable ? geo.HeldMovable : 0);
        // Held memory can neither go below nothing nor leave the fill without room.
        adjust = Math.Clamp(adjust, -unmovable, Math.Max(0, geo.SimulatedMemory - fill - geo.Held - FragmentationExperiment.PmdSize));
        var matched = adjust == 0 ? first : Run(exp, geo, fill, adjust);
        matched.UnmatchedFreeBlocks = simFree;
        matched.Seconds += adjust == 0 ? 0 : first.Seconds;
        return matched;
    }

    public static Result Run(FragmentationExperiment exp, MachineGeometry geo, long fill, long heldAdjust = 0)
    {
        var (text, prints, pinnedCount) = Scenario(exp, geo, fill, heldAdjust);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var run = ScenarioRunner.RunText("<oracle fragmentation>", text, new RunOptions { KeepPrints = true });
        var result = new Result { Scenario = text, Pinned = pinnedCount, Seconds = sw.Elapsed.TotalSeconds, HeldAdjust = heldAdjust };
        if (run.Invalid.Count > 0 || run.Aborted != null)
        {
            result.Aborted = run.Aborted ?? string.Join("; ", run.Invalid.Select(d => d.ToString()));
            return result;
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in run.Prints)
            if (prints.TryGetValue(p.Line, out var key)) values[key] = p.Text;
        result.Buddyinfo = values.GetValueOrDefault("buddyinfo", "").Trim();
        foreach (var ph in FragmentationExperiment.Phases)
        {
            long V(string k)
            {
                string t = values.TryGetValue(k, out var s) ? s : throw new InvalidOperationException($"the simulator printed nothing for {k}");
                string num = t[(t.LastIndexOf(" = ", StringComparison.Ordinal) + 3)..].Replace(" kB", "", StringComparison.Ordinal).Trim();
                return long.Parse(num, CultureInfo.InvariantCulture);
            }
            long D(string c) => V($"{ph.Name}.after.{c}") - V($"{ph.Name}.before.{c}");
            bool pmd = ph.FolioSize == FragmentationExperiment.PmdSize;
            long folios = pmd ? V($"{ph.Name}.anon_huge") * 1024 / FragmentationExperiment.PmdSize : D("sysfs hugepages-64kB/stats/anon_fault_alloc");
            result.Phases[ph.Name] = new PhaseCounts(exp.Measure / ph.FolioSize, folios, D("vmstat compact_stall"), D("vmstat compact_success"),
                D("vmstat compact_fail"), D("vmstat pgmigrate_success"), pmd ? D("vmstat thp_fault_alloc") : null,
                FreeBlocks(values.GetValueOrDefault($"{ph.Name}.buddyinfo", ""), pmd ? 9 : 4));
        }
        return result;
    }
}
