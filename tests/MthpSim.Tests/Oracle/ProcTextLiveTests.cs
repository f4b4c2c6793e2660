using System.Text.RegularExpressions;
using MthpSim.Core;
using MthpSim.Oracle.Compare;
using MthpSim.Oracle.Live;
using MthpSim.Scenario.Runtime;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Oracle;

/// <summary>
/// What `print` shows against what the live kernel prints, line by line, at the end of an oracle run:
/// each scenario VMA's smaps block (every line after the header exactly; the header's range,
/// permissions and offset, and the name where the model can know it), and the layout of
/// /proc/vmstat, /proc/meminfo and /proc/buddyinfo (the model's items appear live in the same order,
/// and the model's line format reproduces each live line from its live value).
/// Left out: LazyFree right after MADV_FREE of small folios (the per-CPU batch, docs/fidelity.md).
/// </summary>
[Collection("live kernel")]
public partial class ProcTextLiveTests
{
    public static TheoryData<string> Scenarios() => new()
    {
        "tests/oracle/fault-64k.mthp", "tests/oracle/fault-several-sizes.mthp", "tests/oracle/zero-page-huge.mthp",
        "tests/oracle/fork/fork-partially-mapped.mthp", "tests/oracle/mremap/mremap-pte-mapped.mthp",
        "tests/oracle/shmem/memfd-shared-pmd.mthp", "tests/oracle/shmem/private-mapping-cow.mthp", "tests/oracle/shmem/shared-anon-per-size.mthp",
        "tests/oracle/swap/pageout-mthp-zram.mthp",
    };

    [LiveKernelTheory]
    [MemberData(nameof(Scenarios))]
    public void Smaps_blocks_are_the_kernels_line_for_line(string file)
    {
        var mismatches = new List<string>();
        int blocks = 0;
        string text = File.ReadAllText(Path.Combine(RepoPaths.Root, file));
        // The live side checks `intact` by reading the pages, which makes their PTEs young; the
        // model's check reads nothing. Referenced is compared only where no such read happened.
        bool intactRead = text.Contains(" intact ", StringComparison.Ordinal);
        var result = OracleRunner.Run(file, text, (live, sim) =>
        {
            foreach (var (name, pid) in live.Processes())
            {
                var liveBlocks = SmapsBlocks(File.ReadAllText($"/proc/{pid}/smaps"));
                var k = sim.Kernel;
                foreach (var vma in sim.Process(name).Vmas)
                {
                    var ours = k.RenderSmaps([vma]).TrimEnd('\n').Split('\n');
                    string key = ours[0][..ours[0].IndexOf(' ')];
                    if (!liveBlocks.TryGetValue(key, out var theirs)) { mismatches.Add($"{name} {key}: no such VMA live"); continue; }
                    blocks++;
                    CompareHeader(name, ours[0], theirs[0], vma.File is { Mount: null }, mismatches);
                    LineDiff.BodyLines($"{name} {key}", ours, theirs, "the kernel", mismatches,
                        line => intactRead && line.StartsWith("Referenced:", StringComparison.Ordinal));
                }
            }
        });
        Assert.True(result.Unavailable == null, result.Unavailable);
        Assert.True(result.Aborted == null, result.Aborted);
        Assert.True(blocks > 0, "no VMA to compare");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [LiveKernelFact]
    public void Vmstat_meminfo_buddyinfo_and_pagetypeinfo_have_the_kernels_layout()
    {
        var problems = new List<string>();
        var result = OracleRunner.Run("(swap)", "machine swap=64M\nprocess p\np mmap a 0x40000000 2M\np write a 0 2M\n", (_, sim) =>
        {
            var k = sim.Kernel;
            // vmstat: "name value", the model's names in the kernel's order.
            var liveVmstat = File.ReadAllLines("/proc/vmstat").Select(l => l.Split(' ')[0]).ToList();
            var ours = k.RenderVmstat().TrimEnd('\n').Split('\n');
            Assert.All(ours, l => Assert.Matches(@"^[a-z0-9_]+ \d+$", l));
            InOrder("vmstat", ours.Select(l => l.Split(' ')[0]).ToList(), liveVmstat, problems);
            // meminfo: the model's formatter prints each live line from its live value.
            var liveMeminfo = File.ReadAllLines("/proc/meminfo");
            var liveByName = liveMeminfo.ToDictionary(l => l[..l.IndexOf(':')]);
            foreach (var name in k.MeminfoNames())
            {
                if (!liveByName.TryGetValue(name, out var line)) { problems.Add($"meminfo {name}: not printed live"); continue; }
                long kb = long.Parse(MeminfoValue().Match(line).Groups[1].Value);
                if (Kernel.MeminfoLine(name, kb) != line) problems.Add($"meminfo: the model prints '{Kernel.MeminfoLine(name, kb)}', the kernel '{line}'");
            }
            InOrder("meminfo", k.MeminfoNames().ToList(), liveMeminfo.Select(l => l[..l.IndexOf(':')]).ToList(), problems);
            // buddyinfo: the Normal zone's line from its live counts.
            var normal = File.ReadAllLines("/proc/buddyinfo").Single(l => l.Contains(" Normal "));
            var counts = normal[(normal.IndexOf("Normal", StringComparison.Ordinal) + 6)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList();
            if (counts.Count != k.Buddy.MaxOrder + 1) problems.Add($"buddyinfo: {counts.Count} orders live, {k.Buddy.MaxOrder + 1} in the model");
            if (Kernel.BuddyinfoLine("Normal", counts) != normal) problems.Add($"buddyinfo: the model prints '{Kernel.BuddyinfoLine("Normal", counts)}', the kernel '{normal}'");
            // pagetypeinfo: the Normal zone's part, printed by the model from its live counts.
            var pti = File.ReadAllLines("/proc/pagetypeinfo");
            var liveNormal = pti.Where(l => !l.StartsWith("Node", StringComparison.Ordinal) || l.Contains(" Normal")).ToList();
            var rows = liveNormal.Where(l => l.Contains(", type ")).Select(l => l[(l.IndexOf(", type ", StringComparison.Ordinal) + 20)..]
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray()).ToArray();
            var blocks = liveNormal.Last()[(liveNormal.Last().IndexOf("Normal", StringComparison.Ordinal) + 6)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();
            int order = int.Parse(pti[0]["Page block order: ".Length..]);
            string oursPti = Kernel.PagetypeinfoText(order, "Normal", rows, blocks);
            string livePti = string.Join("\n", liveNormal) + "\n";
            if (rows.Length != MthpSim.Core.PageAlloc.MigrateTypes.Count) problems.Add($"pagetypeinfo: {rows.Length} migratetypes live, {MthpSim.Core.PageAlloc.MigrateTypes.Count} in the model");
            if (order != k.Buddy.PageblockOrder) problems.Add($"pagetypeinfo: pageblock order {order} live, {k.Buddy.PageblockOrder} in the model");
            if (oursPti != livePti) problems.Add($"pagetypeinfo: the model prints\n{oursPti}the kernel\n{livePti}");
        });
        Assert.True(result.Unavailable == null, result.Unavailable);
        Assert.True(result.Aborted == null, result.Aborted);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    static void InOrder(string what, List<string> ours, List<string> live, List<string> problems)
    {
        int last = -1;
        foreach (var name in ours)
        {
            int i = live.IndexOf(name);
            if (i < 0) problems.Add($"{what} {name}: not printed live");
            else if (i < last) problems.Add($"{what} {name}: printed before '{live[last]}' live, after it by the model");
            else last = i;
        }
    }

    /// <summary>The header of a live smaps block against the model's: range, permissions and offset always; device, inode
    /// and the padded name only where the model can know them (anonymous memory, and names of the internal shmem mount).</summary>
    static void CompareHeader(string process, string ours, string theirs, bool internalShmem, List<string> mismatches)
    {
        var a = ours.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var b = theirs.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        bool anon = a.Length == 5 && a[3] == "00:00";
        bool same = anon ? ours == theirs
            : a[..3].SequenceEqual(b[..3]) && (!internalShmem || (ours[73..] == theirs[73..] && b[3] == "00:01"));
        if (!same) mismatches.Add($"{process}: header '{ours}', the kernel '{theirs}'");
    }

    /// <summary>The blocks of an smaps file by their "start-end" key, each as its lines.</summary>
    static Dictionary<string, string[]> SmapsBlocks(string text)
    {
        var blocks = new Dictionary<string, string[]>();
        var current = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            if (HeaderLine().IsMatch(line))
            {
                if (current.Count > 0) blocks[current[0][..current[0].IndexOf(' ')]] = current.ToArray();
                current = [line];
            }
            else if (line.Length > 0) current.Add(line);
        }
        if (current.Count > 0) blocks[current[0][..current[0].IndexOf(' ')]] = current.ToArray();
        return blocks;
    }

    [GeneratedRegex(@"^[0-9a-f]+-[0-9a-f]+ ")]
    private static partial Regex HeaderLine();

    [GeneratedRegex(@":\s+(\d+) kB$")]
    private static partial Regex MeminfoValue();
}
