using System.Text;
using MthpSim.Core;
using MthpSim.Trace.Format;
using MthpSim.Trace.Replay;
using Xunit;

namespace MthpSim.Tests.Trace;

/// <summary>
/// <see cref="TraceReplay.ApplyAll"/> takes a run of fault records on consecutive pages as one access
/// (issue 15's speed), the clock moving within it while the kernel has no background work due.
/// Replaying record by record must leave exactly the same machine and report:
/// every process's snapshot, the problems with their first records, vmstat and the free lists.
/// </summary>
public class FaultRunReplayTests
{
    static readonly string TracesDir = Path.Combine(RepoRoot(), "traces");

    static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !Directory.Exists(Path.Combine(dir.FullName, "traces"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("no traces/ above the test's directory");
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var trace in new[] { "gcc", "python", "sqlite3", "xz" })
            foreach (var settings in new[]
            {
                "", "hugepages-64kB/enabled=always", "enabled=always,hugepages-16kB/enabled=always",
                // khugepaged awake every few ms: a run of faults over several ms meets its scans
                "enabled=always,hugepages-64kB/enabled=always,khugepaged/scan_sleep_millisecs=3,khugepaged/max_ptes_none=300",
            })
                data.Add(trace, settings);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_shipped_trace_replays_as_it_does_record_by_record(string trace, string settings)
    {
        string file = Path.Combine(TracesDir, trace, "trace.mtrace");
        var sets = settings.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => new KeyValuePair<string, string>(s[..s.IndexOf('=')], s[(s.IndexOf('=') + 1)..])).ToList();
        Assert.Equal(Outcome(file, sets, byRecord: true, 16L << 30), Outcome(file, sets, byRecord: false, 16L << 30));
    }

    /// <summary>
    /// xz on machines it barely fits (its Rss is 95.5 MB with order-0 pages): free memory falls below
    /// the low watermark in the middle of runs of faults that span several milliseconds, so kswapd is
    /// due within them (at 95 MB faults fail too); with THPs and khugepaged awake every 3 ms, its scans
    /// and collapses fall between the faults of such runs.
    /// </summary>
    [Theory]
    [InlineData(96, "")]
    [InlineData(95, "")]
    [InlineData(100, "enabled=always,khugepaged/scan_sleep_millisecs=3,khugepaged/max_ptes_none=300")]
    [InlineData(98, "enabled=always,khugepaged/scan_sleep_millisecs=3,khugepaged/max_ptes_none=300")]
    public void A_trace_on_a_machine_it_barely_fits_replays_as_record_by_record(int megabytes, string settings)
    {
        string file = Path.Combine(TracesDir, "xz", "trace.mtrace");
        var sets = settings.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => new KeyValuePair<string, string>(s[..s.IndexOf('=')], s[(s.IndexOf('=') + 1)..])).ToList();
        Assert.Equal(Outcome(file, sets, byRecord: true, (long)megabytes << 20), Outcome(file, sets, byRecord: false, (long)megabytes << 20));
    }

    /// <summary>Runs that fail part-way: writes to a read-only mapping (SIGSEGV for each), and a machine too small for the program (out of memory in the middle of runs).</summary>
    [Fact]
    public void Runs_that_fail_part_way_report_each_record_as_record_by_record_replay_does()
    {
        string file = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.mtrace");
        try
        {
            long t = 0;
            const ulong at = 0x7ffff0000000;
            using (var w = TraceWriter.Create(file, new TraceHeader { ["arch"] = "x86_64", ["page"] = "4096" }))
            {
                w.Write(new TraceEvent { Kind = TraceEventKind.Exec, Time = t++, Pid = 7, Tid = 7, Arg2 = 7, Path = "/bin/prog" });
                w.Write(new TraceEvent { Kind = TraceEventKind.Mmap, Time = t += 1000, Pid = 7, Tid = 7, Len = 0x10000, Arg2 = 1, Arg3 = 0x22, Arg4 = ulong.MaxValue, Ret = (long)at });
                for (ulong p = 0; p < 8; p++) w.Write(TraceEvent.Fault(t += 100, 7, 7, at + p * 4096, FaultFlags.Write));
                w.Write(new TraceEvent { Kind = TraceEventKind.Mmap, Time = t += 1000, Pid = 7, Tid = 7, Len = 64 << 20, Arg2 = 3, Arg3 = 0x22, Arg4 = ulong.MaxValue, Ret = (long)at + 0x1000000 });
                for (ulong p = 0; p < 16384; p++) w.Write(TraceEvent.Fault(t += 100, 7, 7, at + 0x1000000 + p * 4096, FaultFlags.Write));
                w.Write(new TraceEvent { Kind = TraceEventKind.Exit, Time = t += 1000, Pid = 7, Tid = 7, Arg2 = 1 });
                w.Complete();
            }
            var sets = new List<KeyValuePair<string, string>>();
            string whole = Outcome(file, sets, byRecord: false, 48L << 20);
            Assert.Contains("write fault the mapping does not allow (SIGSEGV) x8", whole);
            Assert.Contains("fault failed with", whole);
            Assert.Equal(Outcome(file, sets, byRecord: true, 48L << 20), whole);
        }
        finally { File.Delete(file); }
    }

    static string Outcome(string file, List<KeyValuePair<string, string>> sets, bool byRecord, long memory)
    {
        using var reader = TraceReader.Open(file);
        var k = ReplayMachine.Create(reader.Header, sets, null, memory);
        var r = new TraceReplay(k, reader.Header);
        if (byRecord) while (reader.Read(out var e)) r.Apply(e);
        else r.ApplyAll(reader);
        r.Finish();
        var o = new StringBuilder();
        o.AppendLine($"records {r.Events} faults {r.Faults}");
        foreach (var s in r.Snapshots)
        {
            o.AppendLine($"{s.Pid} {s.Comm} {s.TimeNs} {s.Exited} {s.TraceFaults} {s.MinFlt} {s.MajFlt} {s.RssAnonKb} {s.RssFileKb} {s.RssShmemKb} zero {s.Census.ZeroPages}");
            o.AppendLine($"  anon {string.Join(',', s.Census.AnonPagesByOrder)} file {string.Join(',', s.Census.FilePagesByOrder)}");
            foreach (var v in s.Census.Vmas) o.AppendLine($"  {v}");
        }
        foreach (var (what, (count, first)) in r.Problems) o.AppendLine($"{what} x{count}: {first}");
        o.Append(k.RenderVmstat()).Append(k.RenderBuddyinfo());
        return o.ToString();
    }
}
