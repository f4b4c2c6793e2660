using MthpSim.Scenario.Runtime;
using MthpSim.Trace.Format;
using Xunit;

namespace MthpSim.Tests.Trace;

/// <summary>The language's <c>replay TRACE [as PREFIX]</c>: processes and regions bound from a trace, usable by later statements.</summary>
public class ReplayStatementTests
{
    const ulong Heap = 0x555555560000, Lib = 0x7ffff7d00000;

    /// <summary>A program that execs, maps a library, grows its heap, forks a child that exits, and is still running when the trace ends.</summary>
    static string WriteTrace()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.mtrace");
        long t = 0;
        TraceEvent E(TraceEventKind k, int pid = 10) => new() { Kind = k, Time = t += 1000, Pid = pid, Tid = pid };
        using var w = TraceWriter.Create(path, new TraceHeader { ["arch"] = "x86_64", ["page"] = "4096" });
        foreach (var e in new[]
        {
            E(TraceEventKind.Exec) with { Arg2 = 10, Path = "/usr/bin/app" },
            E(TraceEventKind.KernelMap) with { Addr = 0x7ffffffde000, Len = 0x21000, Arg2 = 3, Arg3 = 2, Path = "[stack]" },
            E(TraceEventKind.File) with { Len = 0x40000, Path = "/usr/lib/libc.so.6" },
            E(TraceEventKind.Mmap) with { Len = 0x40000, Arg2 = 5, Arg3 = 2, Arg4 = 3, Ret = (long)Lib, Path = "/usr/lib/libc.so.6" },
            E(TraceEventKind.Brk) with { Ret = (long)Heap },
            E(TraceEventKind.Brk) with { Addr = Heap + 0x40000, Ret = (long)Heap + 0x40000 },
            TraceEvent.Fault(t += 1000, 10, 10, Heap + 0x10, FaultFlags.Write),
            TraceEvent.Fault(t += 1000, 10, 10, Lib + 0x5000, FaultFlags.Exec),
            E(TraceEventKind.Task) with { Arg2 = 11, Arg3 = 0x1200000 },
            TraceEvent.Fault(t += 1000, 11, 11, Heap + 0x10, FaultFlags.Write),
            E(TraceEventKind.Exit, 11) with { Arg2 = 1 },
        }) w.Write(e);
        w.Complete();
        return path;
    }

    [Fact]
    public void Traced_processes_and_their_regions_are_bound_for_later_statements()
    {
        string trace = WriteTrace();
        var r = ScenarioRunner.RunText("replay.mthp", $"""
            machine memory=1G
            sysfs hugepages-64kB/enabled = always
            replay {trace} as app
            expect rc == 0
            expect app1 alive == 1
            expect app2 alive == 0
            expect app1 smaps heap Rss == 64K
            expect app1 folio heap 0 order == 4
            expect app1 smaps libc_so_6 Rss == 64K
            expect app1 smaps stack Rss == 0
            app1 write heap 64K 4K
            expect app1 smaps heap Rss == 128K
            app1 fork c
            expect c smaps heap Rss == 128K
            """, new RunOptions { CheckInvariants = true });
        File.Delete(trace);
        Assert.Empty(r.Invalid);
        Assert.True(r.Aborted == null, r.Aborted);
        Assert.All(r.Expectations, e => Assert.True(e.Passed, e.Describe()));
        Assert.Equal(9, r.Expectations.Count);
    }

    [Fact]
    public void A_region_the_trace_names_but_the_process_no_longer_maps_says_why()
    {
        string trace = WriteTrace();
        var r = ScenarioRunner.RunText("replay.mthp", $"""
            replay {trace}
            t1 munmap libc_so_6
            t1 read libc_so_6 0 4K
            expect rc == -EFAULT
            """, new RunOptions());
        File.Delete(trace);
        Assert.Empty(r.Invalid);
        Assert.All(r.Expectations, e => Assert.True(e.Passed, e.Describe()));
    }
}
