using MthpSim.Scenario.Runtime;

namespace MthpSim.Tests.Runtime;

/// <summary>
/// `print` in the kernel's own text formats (checked against the live kernel by ProcTextLiveTests and
/// ThpmapsToolLiveTests); here the exact text for scenarios whose outcome is known.
/// </summary>
public class PrintFormatTests
{
    static string Print(string text)
    {
        var output = new StringWriter();
        var r = ScenarioRunner.RunText("t.mthp", text, new RunOptions { CheckInvariants = true, Output = output });
        Assert.True(r.Passed, string.Join("\n", r.Invalid.Select(d => d.ToString()).Concat(r.Failures.Select(f => f.Describe())).Append(r.Aborted ?? "")));
        return output.ToString();
    }

    static string[] Lines(string text) => text.TrimEnd('\n').Split('\n');

    [Fact]
    public void Meminfo_prints_the_kept_fields_in_the_kernels_order_and_format()
    {
        var lines = Lines(Print("machine memory=1G\nsysfs enabled = always\nprocess p\np mmap a 0x40000000 4M\np write a 0 3M\nprint meminfo\n"));
        Assert.Equal("MemTotal:        1048576 kB", lines[0]);
        Assert.Contains("AnonHugePages:      4096 kB", lines);
        Assert.Contains("AnonPages:          4096 kB", lines);
        // Without swap the LRU fields are not kept; with them they come after SwapCached.
        Assert.DoesNotContain(lines, l => l.StartsWith("Active", StringComparison.Ordinal));
        var names = lines.Select(l => l[..l.IndexOf(':')]).ToList();
        Assert.Equal(["MemTotal", "MemFree", "MemAvailable", "Cached", "SwapCached", "SwapTotal", "SwapFree", "AnonPages", "Mapped", "Shmem",
            "KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "PageTables",
            "AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped"], names);
        var swapLines = Lines(Print("machine memory=1G swap=1G\nprint meminfo\n"));
        Assert.Equal("Active:                0 kB", swapLines[5]);
        Assert.Equal("Inactive(file):        0 kB", swapLines[10]);
        // Aged memory: page cache in Cached, kernel memory in the slab fields, both in MemAvailable.
        var aged = Lines(Print("machine memory=1G\nage unmovable 4M\nage reclaimable 2M\nage pagecache 8M\nprint meminfo\n"));
        Assert.Contains("Cached:             8192 kB", aged);
        Assert.Contains("Slab:               6144 kB", aged);
        Assert.Contains("SReclaimable:       2048 kB", aged);
        Assert.Contains("SUnreclaim:         4096 kB", aged);
    }

    [Fact]
    public void Buddyinfo_counts_free_blocks_per_order_fresh_memory_included()
    {
        // 1G is 256 blocks of order 10. The page tables (unmovable: the PUD and PMD pages, then the
        // PTE table) find no unmovable block and claim a whole one (ALLOC_NOFRAGMENT), and take its
        // pages 0, 1 and 2, leaving page 3 and no order-1 block; the 4K page (movable) splits another.
        var text = Print("machine memory=1G\nprocess p\np mmap a 0x40000000 4K\np write a 0 4K\nprint buddyinfo\n");
        Assert.Equal("Node 0, zone   Normal      2      1      2      2      2      2      2      2      2      2    254 \n", text);
    }

    [Fact]
    public void Vmstat_prints_in_the_kernels_order()
    {
        var names = Lines(Print("machine swap=1G\nprint vmstat\n")).Select(l => l.Split(' ')[0]).ToList();
        // zone items, node items (LRU lists, then the page counts), then the events, as /proc/vmstat.
        Assert.True(names.IndexOf("nr_free_pages") < names.IndexOf("nr_inactive_anon"));
        Assert.True(names.IndexOf("nr_shmem_pmdmapped") < names.IndexOf("nr_anon_transparent_hugepages"));
        Assert.True(names.IndexOf("nr_anon_transparent_hugepages") < names.IndexOf("nr_page_table_pages"));
        Assert.True(names.IndexOf("pgfault") < names.IndexOf("thp_fault_alloc"));
        Assert.True(names.IndexOf("thp_swpout_fallback") < names.IndexOf("swpin_zero"));
        Assert.Contains("nr_swapcached", names);
    }

    [Fact]
    public void Khugepaged_trace_is_ftrace_text_of_the_huge_memory_events()
    {
        // What the live kernel printed for the same MADV_COLLAPSE (docs/fidelity.md): isolation, the collapse, then the scan.
        var lines = Lines(Print("""
            sysfs enabled = madvise
            process mc
            mc mmap a 0x40000000 4M
            mc write a 0 64K
            mc write a 2M 2M
            mc madvise a 0 4M collapse
            print khugepaged trace
            """));
        Assert.Equal("# entries-in-buffer/entries-written: 6/6   #P:1", lines[2]);
        Assert.Matches(@"^              mc-1001    \[000\] \.\.\.\.\.     0\.000000: mm_collapse_huge_page_isolate: scan_pfn=0x[0-9a-f]+, none_or_zero=496, referenced=0, status=succeeded$", lines[12]);
        Assert.Equal("              mc-1001    [000] .....     0.000000: mm_collapse_huge_page: mm=00000000a6ead519, isolated=1, status=succeeded", lines[13]);
        Assert.Matches(@"^              mc-1001    \[000\] \.\.\.\.\.     0\.000000: mm_khugepaged_scan_pmd: mm=00000000a6ead519, scan_pfn=0x[0-9a-f]+, referenced=0, none_or_zero=496, status=succeeded, unmapped=0$", lines[14]);
        Assert.EndsWith("none_or_zero=0, status=succeeded, unmapped=0", lines[17]);
        var extended = Lines(Print("sysfs enabled = always\nprocess p\np mmap a 0x40000000 2M\np write a 0 2M\nsleep 10s\nprint khugepaged trace extended\n"));
        Assert.Contains(extended, l => l.StartsWith("      khugepaged-50      [000] .....    10.000000: mm_khugepaged_scan_pmd: ", StringComparison.Ordinal)
            && l.Contains("scan_pfn=0xffffffffffffffff", StringComparison.Ordinal) && l.Contains("status=page_pmd_mapped", StringComparison.Ordinal)
            && l.EndsWith("[p addr=0x40000000 shared=0 by=khugepaged SCAN_PMD_MAPPED]", StringComparison.Ordinal));
    }

    [Fact]
    public void Thpmaps_prints_per_vma_with_shares_and_the_tools_options()
    {
        const string Setup = """
            sysfs enabled = never
            sysfs hugepages-64kB/enabled = always
            process p
            p mmap a 0x40000000 512K
            p write a 0 128K
            p write a 256K 4K step=64K
            """;
        var lines = Lines(Print(Setup + "\nprint p thpmaps\n"));
        Assert.Equal("       PID             START              END PROT   OFFSET   DEV    INODE OBJECT", lines[0]);
        Assert.Equal("0000001001: 0000000040000000-0000000040080000 rw-p 00000000 00:00 00000000 ", lines[1]);
        Assert.Equal("anon-thp-pte-aligned-64kB:           192 kB (100%)", lines[2]);
        Assert.Equal(3, lines.Length);
        // 64K of 512K anonymous memory is 12.5 %: Python's format rounds the tie to even.
        var rollup = Lines(Print("""
            sysfs enabled = never
            sysfs hugepages-64kB/enabled = always
            process p
            p mmap a 0x40000000 64K
            p write a 0 4K
            sysfs hugepages-64kB/enabled = never
            p mmap b 0x50000000 448K
            p write b 0 448K
            print p thpmaps rollup cont=64K
            """));
        Assert.Equal(["anon-thp-pte-aligned-64kB:            64 kB (12%)", "anon-cont-pte-aligned-64kB:           64 kB (12%)"], rollup);
        var empty = Lines(Print(Setup + "\nprint p thpmaps a inc-empty cont=16K\n"));
        Assert.Equal("anon-thp-pmd-aligned-2048kB:           0 kB ( 0%)", empty[2]);
        Assert.Equal("file-thp-pmd-aligned-2048kB:           0 kB", empty[3]);
        Assert.Equal("file-cont-pte-aligned-16kB:            0 kB", empty[^1]);
    }

    [Fact]
    public void Thpmaps_cont_sizes_outside_what_the_tool_counts_are_refused()
    {
        var r = ScenarioRunner.RunText("t.mthp", "process p\np mmap a 0x40000000 64K\nprint p thpmaps cont=4K\n", new RunOptions());
        Assert.Contains(r.Invalid, d => d.Message.Contains("cont=4K is not a block size thpmaps can count here", StringComparison.Ordinal));
        r = ScenarioRunner.RunText("t.mthp", "process p\np mmap a 0x40000000 64K\nprint p thpmaps cont=48K\n", new RunOptions());
        Assert.Contains(r.Invalid, d => d.Message.Contains("power-of-2", StringComparison.Ordinal));
    }
}
