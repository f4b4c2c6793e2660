using MthpSim.Oracle.Compare;
using MthpSim.Oracle.Live;
using MthpSim.Oracle.Settings;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Tests.Oracle;

/// <summary>The live side of shmem that needs no live kernel: the content model, protocol parsing, command formatting, the mount journal, the shmem settings.</summary>
public class ShmemOfflineTests
{
    const long Page = 4096;

    [Fact]
    public void Pwrite_gives_every_page_it_touches_its_token_where_it_covers_the_first_word()
    {
        var c = new FileContent(Page);
        c.Write(0, 3 * Page, 100);
        Assert.Equal([100UL, 101UL, 102UL], new[] { c.Word(0), c.Word(1), c.Word(2) });
        // Starts 8 bytes into page 3: that page's word is not covered; page 4 is the write's second page.
        c.Write(3 * Page + 8, Page, 200);
        Assert.Equal(0UL, c.Word(3));
        Assert.Equal(201UL, c.Word(4));
    }

    [Fact]
    public void A_write_covering_part_of_the_first_word_changes_only_those_bytes()
    {
        var c = new FileContent(Page);
        c.Store(1, 0x1122334455667788);
        c.Write(Page + 2, 3, 0xaabbccddeeff0102);   // bytes 2..4 of the token
        Assert.Equal(0x112233ddeeff7788UL, c.Word(1));
    }

    [Fact]
    public void Punch_and_truncate_zero_exactly_the_bytes_they_cover()
    {
        var c = new FileContent(Page);
        c.Write(0, 4 * Page, 0x0807060504030201);
        c.Zero(Page + 4, Page - 4);             // page 1 bytes 4..7 go; the range ends where page 2 starts
        Assert.Equal(0x04030202UL, c.Word(1));
        Assert.Equal(0x0807060504030203UL, c.Word(2));
        c.Zero(3 * Page - 1, 2);                // the last byte of page 2 and byte 0 of page 3
        Assert.Equal(0x0807060504030203UL, c.Word(2));
        Assert.Equal(0x0807060504030200UL, c.Word(3));
        c.Truncate(2 * Page + 3);                // page 2 keeps bytes 0..2, page 3 is gone
        Assert.Equal(0x030203UL, c.Word(2));
        Assert.Equal(0UL, c.Word(3));
        c.Truncate(0);
        Assert.Empty(c.Pages);
    }

    [Theory]
    [InlineData("-", "Hole", "none", -1)]
    [InlineData("s", "Swapped", "swap", -1)]
    [InlineData("u", "NotUptodate", "shmem", -1)]
    [InlineData("?", "Unreadable", "none", -1)]
    [InlineData("1a2b:481c:4:1:77", "Cached", "shmem", 4)]
    public void Fpages_entries_parse(string word, string state, string kind, int order)
    {
        var p = FilePage.Parse(word);
        Assert.Equal(state, p.State.ToString());
        Assert.Equal(kind, p.Kind);
        Assert.Equal(order, p.FolioOrder);
        if (p.State == FilePageState.Cached)
        {
            Assert.Equal(0x1a2b, p.Pfn);
            Assert.Equal(0x481cUL, p.Flags);
            Assert.True(p.NextIsTail);
            Assert.Equal(77UL, p.Value);
        }
    }

    [Fact]
    public void A_pages_entry_is_not_an_fpages_entry() => Assert.Throws<FormatException>(() => FilePage.Parse("1a2b:481c:4:1"));

    [Fact]
    public void Maps_lines_give_the_file_identity_and_offsets()
    {
        var memfd = MapsVma.Parse("7f0000000000-7f0000200000 rw-s 00003000 00:01 12345                      /memfd:mthpsim (deleted)")!;
        Assert.True(memfd.Shared);
        Assert.True(memfd.FileBacked);
        Assert.Equal((0u, 1u, 12345UL), memfd.FileKey);
        Assert.Equal(0x3000UL + 0x5000, memfd.FileOffsetOf(0x7f0000005000));
        Assert.Equal("/memfd:mthpsim (deleted)", memfd.Path);
        var anon = MapsVma.Parse("40000000-40400000 rw-p 00000000 00:00 0 ")!;
        Assert.False(anon.FileBacked);
        var privFile = MapsVma.Parse("40000000-40001000 r--p 00000000 fd:03 77 /run/x/m/f")!;
        Assert.True(privFile.FileBacked);
        Assert.False(privFile.Shared);
        Assert.Equal((0xfdu, 3u, 77UL), privFile.FileKey);
        Assert.Null(MapsVma.Parse("garbage"));
    }

    [Theory]
    [InlineData(1UL, 0u, 1u)]
    [InlineData(0x1210334UL, 0x103u, 0x1234u)]   // glibc's makedev(0x103, 0x1234)
    [InlineData(0xfd03UL, 0xfdu, 3u)]
    public void Stat_devices_split_as_maps_prints_them(ulong dev, uint major, uint minor) =>
        Assert.Equal((major, minor), LiveProcfs.DevParts(dev));

    static List<Statement> Parse(string text)
    {
        var r = ScenarioParser.Parse("t.mthp", text);
        Assert.True(r.Success, string.Join("\n", r.Errors));
        return r.Statements.ToList();
    }

    [Fact]
    public void File_statements_become_driver_commands()
    {
        var s = Parse("memfd f 1M\nftruncate f 2M\nfallocate f punch 4K 8K\nfallocate f alloc 0 64K\nlseek f data 12K\nlseek f hole 0\npwrite f 4097 10\npread f 0 1M\n");
        Assert.Equal(
            ["ftruncate 7 2097152", "fallocate 7 3 4096 8192", "fallocate 7 0 0 65536", "lseek 7 3 12288", "lseek 7 4 0", "pwrite 7 4097 10 42", "pread 7 0 1048576"],
            s.Skip(1).Select(st => LiveSession.FileCommand(st, 7, 42)));
    }

    [Fact]
    public void Mmap_commands_for_anonymous_shared_and_file_mappings()
    {
        Assert.Equal("mmap 1073741824 8192 3", LiveSession.MmapCommand(0x40000000, 8192, 3, false, null, 0));
        Assert.Equal("mmap 0 8192 1 1", LiveSession.MmapCommand(0, 8192, 1, true, null, 0));
        Assert.Equal("mmap 0 8192 3 0 /proc/12/fd/7 4096", LiveSession.MmapCommand(0, 8192, 3, false, "/proc/12/fd/7", 4096));
        var m = Parse("memfd f 1M\nprocess p\np mmap a any 8K rw shared memfd:f+4K\n").OfType<MmapStmt>().Single();
        Assert.Equal("mmap 0 8192 3 1 /proc/12/fd/7 4096", LiveSession.MmapCommand(0, m.Length, 3, m.Shared, "/proc/12/fd/7", m.FileOffset));
    }

    /// <summary>Every command the driver dispatches has a row in PROTOCOL.md (the file says to keep the two in sync).</summary>
    [Fact]
    public void Protocol_md_documents_every_driver_command()
    {
        string dir = Path.Combine(MthpSim.Tests.Scenarios.RepoPaths.Root, "src/MthpSim.Oracle/Driver");
        string c = File.ReadAllText(Path.Combine(dir, "mthp_live_driver.c"));
        string md = File.ReadAllText(Path.Combine(dir, "PROTOCOL.md"));
        var commands = System.Text.RegularExpressions.Regex.Matches(c, "strcmp\\(cmd, \"(\\w+)\"\\)").Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("fpages", commands);
        Assert.All(commands, cmd => Assert.True(md.Contains($"| `{cmd}"), $"PROTOCOL.md has no row for '{cmd}'"));
    }

    [Theory]
    [InlineData("never", null, "huge=never")]
    [InlineData("always", 67108864L, "huge=always,size=67108864")]
    [InlineData("64K", null, "huge=64K")]
    [InlineData("always,nr_inodes=1", null, null)]
    [InlineData("always=1", null, null)]
    public void Mount_options(string huge, long? size, string? expected) => Assert.Equal(expected, LiveMounts.Options(huge, size));

    [Fact]
    public void A_huge_word_that_would_add_options_is_refused_without_mounting()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mthpsim-mounts-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string journal = Path.Combine(dir, "saved-settings.mounts");
        var m = new LiveMounts(journal);
        Assert.Equal(-22, m.Mount("m", "always,size=1", null));
        Assert.False(File.Exists(journal));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void The_mount_journal_is_cleaned_up_and_never_touches_paths_outside_its_directory()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mthpsim-mounts-{Guid.NewGuid():N}");
        string point = Path.Combine(dir, "tmpfs-1234", "m");
        Directory.CreateDirectory(point);   // left by a killed run, not mounted
        string outside = Path.Combine(Path.GetTempPath(), $"mthpsim-outside-{Guid.NewGuid():N}");
        Directory.CreateDirectory(outside);
        string journal = Path.Combine(dir, "saved-settings.mounts");
        File.WriteAllLines(journal, [point, outside]);
        var errors = LiveMounts.CleanupFromJournal(journal);
        Assert.Contains(errors, e => e.Contains(outside) && e.Contains("left alone"));
        Assert.False(Directory.Exists(point));
        Assert.False(Directory.Exists(Path.GetDirectoryName(point)));
        Assert.True(Directory.Exists(outside));
        Assert.True(File.Exists(journal));   // kept while something could not be undone
        File.WriteAllLines(journal, [point]);
        Assert.Empty(LiveMounts.CleanupFromJournal(journal));
        Assert.False(File.Exists(journal));
        Assert.Equal("/run/mthpsim-oracle/saved-settings.mounts", LiveMounts.JournalFor("/run/mthpsim-oracle/saved-settings"));
        Directory.Delete(outside);
        Directory.Delete(dir, recursive: true);
    }
}

/// <summary>The shmem settings are saved, set to the simulator's defaults and restored like every other (fake sysfs tree).</summary>
public class ShmemSettingsTests : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), $"mthpsim-fakesys-{Guid.NewGuid():N}");

    public ShmemSettingsTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "khugepaged"));
        File.WriteAllText(Path.Combine(_root, "enabled"), "always [madvise] never\n");
        File.WriteAllText(Path.Combine(_root, "shmem_enabled"), "always within_size [advise] never deny force\n");
        foreach (var size in new[] { "16kB", "64kB", "2048kB" })
        {
            Directory.CreateDirectory(Path.Combine(_root, $"hugepages-{size}"));
            File.WriteAllText(Path.Combine(_root, $"hugepages-{size}/enabled"), "always inherit madvise [never]\n");
            File.WriteAllText(Path.Combine(_root, $"hugepages-{size}/shmem_enabled"), "[always] inherit within_size advise never\n");
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Every_shmem_enabled_file_is_saved_and_set_to_the_upstream_default()
    {
        var s = new LiveSettings(_root, Path.Combine(_root, "journal", "saved"));
        var files = s.SettingFiles();
        Assert.Contains("shmem_enabled", files);
        Assert.Contains("hugepages-16kB/shmem_enabled", files);
        Assert.Contains("hugepages-2048kB/shmem_enabled", files);
        var d = OracleRunner.SimulatorDefaults(s);
        Assert.Equal("never", d["shmem_enabled"]);
        Assert.Equal("never", d["hugepages-16kB/shmem_enabled"]);
        Assert.Equal("never", d["hugepages-64kB/shmem_enabled"]);
        Assert.Equal("inherit", d["hugepages-2048kB/shmem_enabled"]);

        var saved = s.SaveToJournal();
        Assert.Equal("advise", saved["shmem_enabled"]);
        Assert.Equal("always", saved["hugepages-64kB/shmem_enabled"]);
        foreach (var (k, v) in d.Where(kv => kv.Key.EndsWith("shmem_enabled", StringComparison.Ordinal)))
            File.WriteAllText(Path.Combine(_root, k), v + "\n");   // what a run sets (a fake file holds the value)
        Assert.Empty(s.RestoreFromJournal());
        Assert.Equal("advise", s.Read("shmem_enabled"));
        Assert.Equal("always", s.Read("hugepages-2048kB/shmem_enabled"));
    }
}
