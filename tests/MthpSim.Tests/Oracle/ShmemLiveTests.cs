using System.Globalization;
using MthpSim.Core;
using MthpSim.Oracle.Live;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Tests.Oracle;

/// <summary>
/// The live driver's file commands and the live session's shmem statements on this machine's
/// kernel, under whatever THP settings it has: these tests write nothing under /sys and mount tmpfs
/// only with huge=never. Only the scenario test assumes base-page shmem folios (its st_blocks), as
/// with the upstream default shmem_enabled=never. Needs root (kpageflags): skipped otherwise.
/// </summary>
[Collection("live kernel")]
public class ShmemLiveTests
{
    static LiveDriver Driver() => new(DriverBuilder.Ensure());

    static long N(string s) => long.Parse(s, CultureInfo.InvariantCulture);

    static (int Fd, long Rc) Memfd(LiveDriver d, long size)
    {
        var r = d.Send($"memfd mthpsim {size}");
        return ((int)N(r[0]), N(r[1]));
    }

    static FilePage[] Fpages(LiveDriver d, int fd, long off, long len) => d.Send($"fpages {fd} {off} {len}").Select(FilePage.Parse).ToArray();

    const int Referenced = 2, Active = 6;

    /// <summary>Laid out so that it holds whatever folio sizes the machine's shmem settings give (at most 2M, naturally aligned).</summary>
    [LiveKernelFact]
    public void Fpages_tells_holes_fallocated_and_written_pages_apart_without_changing_them()
    {
        const long M = 1 << 20;
        using var d = Driver();
        var (fd, rc) = Memfd(d, 8 * M);
        Assert.True(fd >= 0 && rc == 0);
        Assert.Equal(0, d.SendRc($"fallocate {fd} 0 0 4096"));
        Assert.Equal(8, d.SendRc($"pwrite {fd} {4 * M + 4096} 8 500"));
        var before = d.Send($"fstat {fd}");
        FilePage[] Look() => [Fpages(d, fd, 0, 4096)[0], Fpages(d, fd, 4 * M + 4096, 4096)[0], Fpages(d, fd, 6 * M, 4096)[0]];
        var p = Look();
        Assert.Equal([FilePageState.NotUptodate, FilePageState.Cached, FilePageState.Hole], p.Select(x => x.State));
        Assert.Equal(500UL, p[1].Value);
        Assert.Equal("shmem", p[0].Kind);
        Assert.Equal(-1, p[0].FolioOrder);
        Assert.True(p[1].Order >= 0);
        // The fallocated page is still no data for SEEK_DATA (not made uptodate), nothing was allocated,
        // the written folio's LRU state is as it was.
        Assert.True(d.SendRc($"lseek {fd} 3 0") >= 4096);
        Assert.Equal(-Errno.ENXIO, d.SendRc($"lseek {fd} 3 {6 * M}"));
        var again = Look();
        Assert.Equal(before, d.Send($"fstat {fd}"));
        Assert.Equal(p.Select(x => x.State), again.Select(x => x.State));
        foreach (int bit in new[] { Referenced, Active })
            Assert.Equal(KPageFlags.Has(p[1].Flags, bit), KPageFlags.Has(again[1].Flags, bit));
        Assert.Equal(0, d.SendRc($"fclose {fd}"));
    }

    /// <summary>Random pwrite / punch / ftruncate on a memfd, unaligned: the page words the driver reads back are the content model's.</summary>
    [LiveKernelFact]
    public void File_content_follows_the_model_byte_by_byte()
    {
        using var d = Driver();
        long page = d.PageSize, size = 16 * page;
        var (fd, _) = Memfd(d, size);
        var model = new FileContent(page);
        var rng = new Random(12);
        ulong token = 1;
        for (int step = 0; step < 200; step++)
        {
            long off = rng.NextInt64(0, size - 1), len = rng.NextInt64(1, Math.Min(3 * page, size - off) + 1);
            switch (rng.Next(4))
            {
                case 0 or 1:
                    Assert.Equal(len, d.SendRc($"pwrite {fd} {off} {len} {token}"));
                    model.Write(off, len, token);
                    token += (ulong)((off + len - 1) / page - off / page + 1);
                    break;
                case 2:
                    Assert.Equal(0, d.SendRc($"fallocate {fd} 3 {off} {len}"));
                    model.Zero(off, len);
                    break;
                default:
                    long newSize = rng.NextInt64(0, size + 1);
                    Assert.Equal(0, d.SendRc($"ftruncate {fd} {newSize}"));
                    model.Truncate(newSize);
                    Assert.Equal(0, d.SendRc($"ftruncate {fd} {size}"));
                    break;
            }
            var pages = Fpages(d, fd, 0, size);
            for (int i = 0; i < pages.Length; i++)
                Assert.True(model.Word(i) == (pages[i].State == FilePageState.Cached ? pages[i].Value : 0UL), $"step {step}, page {i}: live {pages[i]}, model {model.Word(i)}");
        }
    }

    [LiveKernelFact]
    public void Processes_share_a_file_through_the_holders_fd_link_and_private_mappings_copy_on_write()
    {
        using var control = Driver();
        using var p = Driver();
        using var q = Driver();
        var (fd, _) = Memfd(control, 8192);
        string path = $"/proc/{control.Pid}/fd/{fd}";
        long a = p.SendRc(LiveSession.MmapCommand(0, 8192, 3, true, path, 0));
        long b = q.SendRc(LiveSession.MmapCommand(0, 8192, 3, false, path, 0));
        Assert.True(a > 0 && b > 0);
        Assert.Equal(["0", "1"], p.Send($"touch {a} 4096 1 700"));
        Assert.Equal(700UL, Fpages(control, fd, 0, 4096)[0].Value);
        Assert.Equal("-", q.Send($"peek {b} 4096")[0]);
        q.Send($"touch {b} 4096 0 0");
        Assert.Equal("700", q.Send($"peek {b} 4096")[0]);
        q.Send($"touch {b} 4096 1 800");          // the private mapping's own copy
        Assert.Equal(700UL, Fpages(control, fd, 0, 4096)[0].Value);
        Assert.Equal("800", q.Send($"peek {b} 4096")[0]);
        Assert.Equal(0, p.SendRc($"madvise {a} 4096 9"));   // MADV_REMOVE on the shared mapping punches the file
        Assert.Equal(FilePageState.Hole, Fpages(control, fd, 0, 4096)[0].State);
        Assert.Equal(-Errno.EACCES, q.SendRc($"madvise {b} 4096 9"));
        var maps = LiveProcfs.Maps(p.Pid).Single(v => v.Start == (ulong)a);
        Assert.True(maps.Shared);
        Assert.Equal(LiveProcfs.DevParts(ulong.Parse(control.Send($"fstat {fd}")[3], CultureInfo.InvariantCulture)), (maps.Major, maps.Minor));
    }

    [LiveKernelFact]
    public void Shared_anonymous_memory_is_read_through_map_files()
    {
        using var control = Driver();
        using var p = Driver();
        long a = p.SendRc(LiveSession.MmapCommand(0, 8192, 3, true, null, 0));
        Assert.True(a > 0);
        p.Send($"touch {a} 4096 1 900");
        var vma = LiveProcfs.Maps(p.Pid).Single(v => v.Start == (ulong)a);
        Assert.True(vma.Shared && vma.FileBacked);
        long fd = control.SendRc($"fopen /proc/{p.Pid}/map_files/{vma.Start:x}-{vma.End:x}");
        Assert.True(fd >= 0, $"fopen: {fd}");
        var pages = Fpages(control, (int)fd, 0, 8192);
        Assert.Equal(900UL, pages[0].Value);
        Assert.Equal(FilePageState.Hole, pages[1].State);
        Assert.Equal(0, control.SendRc($"fclose {fd}"));
    }

    [LiveKernelFact]
    public void A_tmpfs_mount_is_journalled_and_undone_even_with_a_file_open()
    {
        string dir = Path.Combine("/run", $"mthpsim-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string journal = Path.Combine(dir, "saved-settings.mounts");
        try
        {
            var mounts = new LiveMounts(journal);
            Assert.Equal(0, mounts.Mount("m", "never", 1 << 20));
            Assert.Equal(-Errno.EINVAL, mounts.Mount("bad", "64K", null));   // refused by the kernel: nothing mounted
            string point = mounts.PathOf("m");
            Assert.Contains(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == point && l.Contains(" - tmpfs "));
            Assert.False(Directory.Exists(mounts.PathOf("bad")));
            using var control = Driver();
            var r = control.Send($"fcreate {point}/f 8192");
            Assert.Equal("0", r[1]);
            Assert.Equal(5000, control.SendRc($"pwrite {r[0]} 100 5000 1"));
            Assert.Equal(-Errno.ENOENT, N(control.Send($"fcreate {mounts.PathOf("bad")}/g 0")[0]));
            // As the next run after a SIGKILL would: from the journal alone, with the file still open (detached).
            Assert.Empty(LiveMounts.CleanupFromJournal(journal));
            Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == point);
            Assert.False(Directory.Exists(point));
            Assert.False(File.Exists(journal));
        }
        finally
        {
            if (File.Exists(journal)) LiveMounts.CleanupFromJournal(journal);
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A file scenario through LiveSession alone (the simulator side is not consulted): every
    /// expectation must hold on the live kernel. Fixed addresses, so no simulator placement is needed.
    /// </summary>
    const string Scenario = """
        memfd f 16K
        process p
        p mmap a 0x500000000000 16K rw shared memfd:f
        p write a 0 8K
        expect p intact a == 1
        pwrite f 8K 4K
        expect rc == 4096
        expect p intact a == 1
        expect file f size == 16384
        expect file f blocks == 12
        expect file f folio 0 kind == shmem
        expect file f folio 12K kind == none
        fallocate f alloc 12K 4K
        expect rc == 0
        expect file f folio 12K kind == shmem
        expect file f blocks == 16
        lseek f data 12K
        expect rc == -ENXIO
        lseek f hole 0
        expect rc == 12288
        p fork c
        c write a 4K 4K
        expect p intact a == 1
        expect c intact a == 1
        process q
        q mmap b 0x500000100000 16K rw private memfd:f
        q read b 0 8K
        q write b 0 4K
        expect q intact b == 1
        p write a 0 4K
        expect q intact b == 1
        expect p intact a == 1
        p madvise a 4K 4K remove
        expect rc == 0
        expect p intact a == 1
        expect c intact a == 1
        q madvise b 4K 4K remove
        expect rc == -EACCES
        fallocate f punch 8K 4K
        expect rc == 0
        expect q intact b == 1
        expect file f folio 8K kind == none
        ftruncate f 4K
        expect q intact b == 1
        expect p intact a == 1
        expect file f size == 4096
        p mmap s 0x500000200000 8K rw shared anon
        p write s 0 4K
        p fork d
        d write s 4K 4K
        p munmap s 4K 4K
        expect d intact s == 1
        expect p intact s == 1
        tmpfs m huge=never size=1M
        expect rc == 0
        file g on m 8K
        expect rc == 0
        pwrite g 100 5000
        expect rc == 5000
        process r
        r mmap t 0x500000300000 8K rw shared file:g
        expect r intact t == 1
        r write t 4K 4K
        pread g 0 8K
        expect rc == 8192
        expect r intact t == 1
        tmpfs bad huge=64K
        expect rc == -EINVAL
        """;

    [LiveKernelFact]
    public void A_file_scenario_holds_on_the_live_kernel()
    {
        var parsed = ScenarioParser.Parse("shmem-live.mthp", Scenario);
        Assert.True(parsed.Success, string.Join("\n", parsed.Errors));
        var sim = new ScenarioSession(new Kernel(ScenarioRunner.MachineFrom(null)));
        string dir = Path.Combine("/run", $"mthpsim-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string journal = Path.Combine(dir, "saved-settings.mounts");
        var failed = new List<string>();
        try
        {
            using (var live = new LiveSession(DriverBuilder.Ensure(), journal))
            {
                live.Start(sim.Kernel, parsed.Statements.OfType<ProcessStmt>().Select(p => p.Name), freeHugeZeroPage: false, needsReclaim: false);
                foreach (var stmt in parsed.Statements)
                {
                    live.Execute(stmt, sim);
                    if (stmt is ExpectStmt e && ScenarioRunner.Compare(e, live.Evaluate(e.Lhs)) is { Passed: false } r)
                        failed.Add($"line {e.Span.Line}: {e.Text}: live {r.Observed}");
                }
            }
            Assert.False(File.Exists(journal), "the session's mounts were not undone");
        }
        finally
        {
            if (File.Exists(journal)) LiveMounts.CleanupFromJournal(journal);
            Directory.Delete(dir, recursive: true);
        }
        Assert.Empty(failed);
    }
}
