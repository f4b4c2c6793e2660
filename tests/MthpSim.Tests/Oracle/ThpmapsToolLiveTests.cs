using MthpSim.Oracle.Compare;
using MthpSim.Oracle.Live;
using MthpSim.Tests.Scenarios;
using Xunit.Sdk;

namespace MthpSim.Tests.Oracle;

/// <summary>Needs the live kernel and the kernel's own tools/mm/thpmaps with numpy (see README); skipped, with the reason, otherwise; failed when the live-kernel check broke.</summary>
[XunitTestCaseDiscoverer("MthpSim.Tests.Oracle.LiveKernelTheoryDiscoverer", "MthpSim.Tests")]
public sealed class ThpmapsToolTheoryAttribute : TheoryAttribute
{
    public ThpmapsToolTheoryAttribute()
    {
        Skip = LiveKernel.SkipReason;
        if (LiveKernel.Decision is LiveDecision.Run && ThpmapsTool.Find(out string? whyNot) == null) Skip = whyNot;
    }
}

/// <summary>
/// The project's thpmaps values (the shared calculator over what the oracle reads of the live
/// kernel) against the kernel's own tools/mm/thpmaps, run on the same live processes at the end of
/// an oracle run: every key of every VMA of every scenario process, including the VMAs the tool
/// skips and the drivers' own mappings (text, libc, stack).
/// </summary>
[Collection("live kernel")]
public class ThpmapsToolLiveTests
{
    /// <summary>Ends with mTHPs of two sizes, a PROT_NONE VMA holding mTHPs, a folio cut by a PROT_NONE boundary, a PMD THP beside the huge zero PMD, and a PTE-mapped 2M folio.</summary>
    const string Mixed = """
        sysfs enabled = madvise
        sysfs hugepages-64kB/enabled = always
        sysfs hugepages-16kB/enabled = always
        process p
        p mmap a 0x40000000 1M
        p write a 0 1M step=64K
        p mprotect a 512K 512K none
        p mprotect a 96K 16K none
        p mmap b 0x40200000 4M
        p madvise b 0 4M hugepage
        p read b 0 4K
        p read b 2M 4K
        p write b 8K 4K
        p mmap c 0x40800000 2M
        p madvise c 0 2M hugepage
        p write c 0 2M
        p mprotect c 1M 4K r
        p mmap d 0x40a00000 60K
        p write d 0 60K
        expect p smaps b AnonHugePages == 2048kB
        """;

    public static TheoryData<string> Scenarios() => new()
    {
        "(mixed)", "tests/oracle/fault-64k.mthp", "tests/oracle/fault-unaligned-vma-start.mthp", "tests/oracle/dontneed-part-of-mthp.mthp",
        "tests/oracle/dontneed-part-of-pmd-thp.mthp", "tests/oracle/fault-several-sizes.mthp", "tests/oracle/zero-page-huge.mthp",
        "tests/oracle/fork/fork-partially-mapped.mthp", "tests/oracle/mremap/mremap-pte-mapped.mthp",
    };

    [ThpmapsToolTheory]
    [MemberData(nameof(Scenarios))]
    public void The_project_computes_what_the_kernels_thpmaps_prints(string file)
    {
        var tool = ThpmapsTool.Find(out _)!;
        string text = file == "(mixed)" ? Mixed : File.ReadAllText(Path.Combine(RepoPaths.Root, file));
        var mismatches = new List<string>();
        int processes = 0, nonZero = 0;
        var result = OracleRunner.Run(file, text, session =>
        {
            int pmdOrder = System.Numerics.BitOperations.Log2((ulong)session.PageSize) - 3;
            foreach (var (name, pid) in session.Processes())
            {
                processes++;
                var ours = session.ThpmapsOfProcess(name).ToDictionary(v => v.Start);
                foreach (var (start, end, keys) in tool.PerVma(pid, pmdOrder, session.PageSize >> 10))
                {
                    if (!ours.TryGetValue(start, out var mine)) { mismatches.Add($"{name} {start:x}-{end:x}: not a VMA the oracle read"); continue; }
                    if (keys.Count == 0 && mine.Keys.Count > 0) mismatches.Add($"{name} {start:x}-{end:x}: the tool skips this VMA; the project counts it");
                    foreach (var (k, v) in keys)
                    {
                        long m = mine.Keys.GetValueOrDefault(k, -1);
                        if (m != v) mismatches.Add($"{name} {start:x}-{end:x} {k}: thpmaps {v} kB, project {m} kB");
                        if (v != 0) nonZero++;
                    }
                    foreach (var k in mine.Keys.Keys.Where(k => keys.Count > 0 && !keys.ContainsKey(k)))
                        mismatches.Add($"{name} {start:x}-{end:x} {k}: not printed by thpmaps");
                }
            }
        });
        Assert.True(result.Unavailable == null, result.Unavailable);
        Assert.True(result.Aborted == null, result.Aborted);
        Assert.True(processes > 0, "no live process to compare");
        Assert.True(nonZero > 0, "thpmaps printed only zeros: the check saw no THP");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    /// <summary>
    /// `print P thpmaps inc-empty cont=...` against the tool's own output with the same options, line
    /// by line for every VMA of the scenario: the VMA line after the pid (device and inode only for
    /// anonymous memory, where the model knows them), then every key line with its percentage.
    /// </summary>
    [ThpmapsToolTheory]
    [MemberData(nameof(Scenarios))]
    public void Print_thpmaps_is_the_tools_output_line_for_line(string file)
    {
        var tool = ThpmapsTool.Find(out _)!;
        string text = file == "(mixed)" ? Mixed : File.ReadAllText(Path.Combine(RepoPaths.Root, file));
        var mismatches = new List<string>();
        int vmas = 0;
        var result = OracleRunner.Run(file, text, (live, sim) =>
        {
            var k = sim.Kernel;
            foreach (var (name, pid) in live.Processes())
            {
                var mm = sim.Process(name);
                var theirs = Blocks(tool.Output(pid, ["--inc-empty", "--cont", "16K", "--cont", "64K", "--cont", "2M"]));
                var ours = Blocks(k.RenderThpmaps(mm, mm.Vmas, rollup: false, incEmpty: true, [2, 4, k.Geo.PmdOrder]));
                foreach (var (start, mine) in ours)
                {
                    if (!theirs.TryGetValue(start, out var tools)) { mismatches.Add($"{name} {start}: the tool prints no such VMA"); continue; }
                    vmas++;
                    // "PID: START-END PROT OFFSET DEV INODE NAME": the pid is the model's own.
                    string a = mine[0][(mine[0].IndexOf(':') + 2)..], b = tools[0][(tools[0].IndexOf(':') + 2)..];
                    bool anon = a.EndsWith(" 00:00 00000000 ", StringComparison.Ordinal);
                    if (anon ? a != b : a[..47] != b[..47]) mismatches.Add($"{name}: VMA line '{a}', the tool's '{b}'");
                    LineDiff.BodyLines($"{name} {start}", mine, tools, "the tool", mismatches);
                }
            }
        });
        Assert.True(result.Unavailable == null, result.Unavailable);
        Assert.True(result.Aborted == null, result.Aborted);
        Assert.True(vmas > 0, "no VMA to compare");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    /// <summary>The tool's output cut into VMA blocks, keyed by the VMA's start (the header line left out).</summary>
    static Dictionary<string, List<string>> Blocks(string output)
    {
        var blocks = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.Length > 12 && line[10] == ':' && char.IsAsciiDigit(line[0]))
                blocks[line[12..28]] = current = [line];
            else if (line.Length > 0 && current != null) current.Add(line);
        }
        return blocks;
    }
}
