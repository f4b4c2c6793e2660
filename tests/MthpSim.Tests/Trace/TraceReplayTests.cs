using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Trace.Format;
using MthpSim.Trace.Replay;
using Xunit;

namespace MthpSim.Tests.Trace;

/// <summary>Hand-written traces replayed on the model: what each kind of record does to the simulated processes.</summary>
public class TraceReplayTests
{
    const int Pid = 100;
    const ulong Stack = 0x7ffffffde000, StackLen = 0x21000, Heap = 0x555555559000;
    long _t;

    TraceEvent E(TraceEventKind kind, int pid = Pid, int? tid = null) => new() { Kind = kind, Time = _t += 1000, Pid = pid, Tid = tid ?? pid };

    List<TraceEvent> Start(int pid = Pid) =>
    [
        E(TraceEventKind.Exec, pid) with { Arg2 = (ulong)pid, Path = "/usr/bin/prog" },
        E(TraceEventKind.KernelMap, pid) with { Addr = Stack, Len = StackLen, Arg2 = 3, Arg3 = (ulong)LinuxAbi.MapPrivate, Path = "[stack]" },
        E(TraceEventKind.KernelMap, pid) with { Addr = 0x555555557000, Len = 0x2000, Arg2 = 3, Arg3 = (ulong)LinuxAbi.MapPrivate, Path = "//anon" },
        E(TraceEventKind.KernelMap, pid) with { Addr = 0x7ffff7fc8000, Len = 0x2000, Arg2 = 5, Arg3 = (ulong)LinuxAbi.MapPrivate, Path = "[vdso]" },
    ];

    TraceEvent Mmap(ulong at, ulong len, int pid = Pid) =>
        E(TraceEventKind.Mmap, pid) with { Len = len, Arg2 = 3, Arg3 = (ulong)(LinuxAbi.MapPrivate | LinuxAbi.MapAnonymous), Arg4 = ulong.MaxValue, Ret = (long)at };

    TraceEvent Write(ulong addr, int pid = Pid) => TraceEvent.Fault(_t += 1000, pid, pid, addr, FaultFlags.Write);
    TraceEvent Read(ulong addr, int pid = Pid) => TraceEvent.Fault(_t += 1000, pid, pid, addr, FaultFlags.Read);
    TraceEvent Exit(int pid = Pid) => E(TraceEventKind.Exit, pid) with { Arg2 = 1 };

    static TraceReplay Replay(IEnumerable<TraceEvent> events, params (string Path, string Value)[] sets)
    {
        var h = new TraceHeader { ["arch"] = "x86_64", ["page"] = "4096" };
        var k = ReplayMachine.Create(h, sets.Select(s => new KeyValuePair<string, string>(s.Path, s.Value)), null, 1L << 30);
        var r = new TraceReplay(k, h);
        foreach (var e in events) r.Apply(e);
        r.Finish();
        return r;
    }

    static IEnumerable<TraceEvent> Writes(Func<ulong, TraceEvent> w, ulong from, int pages) => Enumerable.Range(0, pages).Select(i => w(from + (ulong)i * 4096));

    [Fact]
    public void Faults_on_an_anonymous_mapping_make_the_folios_the_settings_allow()
    {
        const ulong at = 0x7ffff0000000;
        var t = Start().Append(Mmap(at, 1 << 20)).Concat(Writes(a => Write(a), at, 256)).Append(Exit()).ToList();
        var off = Assert.Single(Replay(t, ("hugepages-64kB/enabled", "never")).Snapshots);
        _t = 0;
        t = Start().Append(Mmap(at, 1 << 20)).Concat(Writes(a => Write(a), at, 256)).Append(Exit()).ToList();
        var on = Assert.Single(Replay(t, ("hugepages-64kB/enabled", "always")).Snapshots);
        Assert.Equal(256, off.Census.AnonPagesByOrder[0]);
        Assert.Equal(256, on.Census.AnonPagesByOrder[4]);
        Assert.True(on.Exited);
        Assert.Equal(256 * 4, on.RssAnonKb);
    }

    [Fact]
    public void Fork_copies_the_mm_copy_on_write_and_vfork_shares_it_until_exec()
    {
        const ulong at = 0x7ffff0000000;
        var t = Start().Append(Mmap(at, 0x10000)).Concat(Writes(a => Write(a), at, 16))
            .Append(E(TraceEventKind.Task) with { Arg2 = 200, Arg3 = 0x1200000 })          // fork
            .Append(Write(at, 200)).Append(Exit(200))
            .Append(E(TraceEventKind.Task) with { Arg2 = 300, Arg3 = LinuxAbi.CloneVm | LinuxAbi.CloneVfork })   // vfork
            .Append(Write(at + 0x1000, 300))                                              // writes the parent's memory
            .Concat(Start(300)).Append(Write(at + 0x2000 - 0x7ffff0000000 + 0x7ffff1000000, 300))
            .Append(Exit(300)).Append(Exit()).ToList();
        var r = Replay(t);
        Assert.Equal(["prog", "prog", "prog"], r.Snapshots.Select(s => s.Comm));
        var child = r.Snapshots.Single(s => s.Pid == 200);
        Assert.Equal(16, child.Census.AnonPagesByOrder[0]);   // one copied by its write, fifteen shared
        Assert.Contains(r.Problems, p => p.Key == "fault outside every mapping");   // 300's write after its exec hit nothing
        Assert.Equal(16, r.Snapshots.Single(s => s.Pid == Pid).Census.AnonPagesByOrder[0]);
    }

    [Fact]
    public void The_heap_grows_as_a_VMA_of_its_own_beside_the_bss()
    {
        var t = Start().Concat(
        [
            E(TraceEventKind.Brk) with { Addr = 0, Ret = (long)Heap },
            E(TraceEventKind.Brk) with { Addr = Heap + 0x21000, Ret = (long)Heap + 0x21000 },
            E(TraceEventKind.Brk) with { Addr = Heap + 0x42000, Ret = (long)Heap + 0x42000 },
            E(TraceEventKind.Brk) with { Addr = Heap + 0x30000, Ret = (long)Heap + 0x30000 },
            Write(Heap), Write(0x555555558000), Exit(),
        ]).ToList();
        var r = Replay(t);
        Assert.Empty(r.Problems);
        var vmas = r.Snapshots[0].Census.Vmas;
        Assert.Contains(vmas, v => v.Start == 0x555555557000 && v.End == Heap);
        Assert.Contains(vmas, v => v.Start == Heap && v.End == Heap + 0x30000);
    }

    [Fact]
    public void The_stack_grows_down_to_a_fault_and_execve_filled_its_top_pages()
    {
        ulong top = Stack + StackLen;
        var t = Start().Concat([Write(top - 0x3000 + 0x10), Write(Stack - 0x5000), Read(0x7ffff7fc8020), Read(0x100000), Exit()]).ToList();
        var r = Replay(t);
        var s = r.Snapshots[0];
        Assert.Equal(3 + 1, s.Census.AnonPagesByOrder[0]);   // the faulted page, the two above it, the grown stack's page
        Assert.Equal(4, s.RssFileKb);                         // the vdso page
        Assert.Equal(("fault outside every mapping", 1L), (r.Problems.Single().Key, r.Problems.Single().Value.Count));
    }

    [Fact]
    public void A_thread_stack_mapped_with_MAP_STACK_gets_no_large_folio_and_stays_a_VMA_of_its_own()
    {
        const ulong at = 0x7ffff0000000;
        var stack = Mmap(at + 0x100000, 0x100000) with { Arg3 = (ulong)(LinuxAbi.MapPrivate | LinuxAbi.MapAnonymous | LinuxAbi.MapStack) };
        var t = Start().Append(Mmap(at, 0x100000)).Append(stack).Append(Write(at + 0x1f0000)).Append(Write(at + 0xf0000)).Append(Exit()).ToList();
        var s = Replay(t, ("hugepages-64kB/enabled", "always")).Snapshots[0];
        Assert.Equal(1, s.Census.AnonPagesByOrder[0]);    // in the stack: 4K
        Assert.Equal(16, s.Census.AnonPagesByOrder[4]);   // beside it: 64K
        Assert.Contains(s.Census.Vmas, v => v.Start == at + 0x100000 && v.End == at + 0x200000);
    }

    [Fact]
    public void A_trace_of_another_page_size_is_refused()
    {
        var h = new TraceHeader { ["arch"] = "x86_64", ["page"] = "4096" };
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 1L << 30, PageSize = 16384, Arch = CpuArch.Arm64 });
        var e = Assert.Throws<ReplayException>(() => new TraceReplay(k, h));
        Assert.Contains("4K pages", e.Message);
    }

    [Fact]
    public void A_call_the_model_lacks_is_listed_with_the_first_record()
    {
        var t = Start().Concat([Mmap(0x7ffff0000000, 0x4000), E(TraceEventKind.Mremap) with { Addr = 0x7ffff0000000, Len = 0x4000, Arg2 = 0x4000, Arg3 = 7, Arg4 = 0x7ffff1000000, Ret = 0x7ffff1000000 }]);
        var r = Replay(t);
        Assert.Equal(1, r.Problems["not modelled: mremap(MREMAP_DONTUNMAP)"].Count);
    }
}

/// <summary>A replay streams: what it holds does not grow with the trace's length (measured on the whole heap, so alone).</summary>
[Collection("process-wide measurement")]
public class TraceReplayMemoryTests
{
    /// <summary>A process that maps, touches and unmaps 1 MiB over and over: <paramref name="rounds"/> × 258 records.</summary>
    static string LongTrace(int rounds)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.mtrace");
        long t = 0;
        using var w = TraceWriter.Create(path, new TraceHeader { ["arch"] = "x86_64", ["page"] = "4096" });
        w.Write(new TraceEvent { Kind = TraceEventKind.Exec, Time = t++, Pid = 7, Tid = 7, Arg2 = 7, Path = "/bin/loop" });
        const ulong at = 0x7ffff0000000;
        for (int r = 0; r < rounds; r++)
        {
            w.Write(new TraceEvent { Kind = TraceEventKind.Mmap, Time = t += 1000, Pid = 7, Tid = 7, Len = 1 << 20, Arg2 = 3, Arg3 = 0x22, Arg4 = ulong.MaxValue, Ret = (long)at });
            for (ulong p = 0; p < 256; p++) w.Write(TraceEvent.Fault(t += 100, 7, 7, at + p * 4096, FaultFlags.Write));
            w.Write(new TraceEvent { Kind = TraceEventKind.Munmap, Time = t += 1000, Pid = 7, Tid = 7, Addr = at, Len = 1 << 20 });
        }
        w.Complete();
        return path;
    }

    static long HeldAfterReplay(string path)
    {
        using var reader = TraceReader.Open(path);
        var k = ReplayMachine.Create(reader.Header, [], null, 1L << 30);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var replay = new TraceReplay(k, reader.Header);
        while (reader.Read(out var e)) replay.Apply(e);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Empty(replay.Problems);
        GC.KeepAlive(replay);
        return after - before;
    }

    [Fact]
    public void Ten_times_the_records_hold_no_more_memory()
    {
        // 129,000 and 1,290,000 records: the shorter one long enough that the reader's blocks reach
        // their full size (256 KiB, about 37,000 fault records of 7 bytes), whose buffers the pool keeps
        string shortTrace = LongTrace(500), longTrace = LongTrace(5000);
        long small = HeldAfterReplay(shortTrace), large = HeldAfterReplay(longTrace);
        File.Delete(shortTrace);
        File.Delete(longTrace);
        Assert.True(large - small < 256 * 1024, $"{small:N0} bytes held after 129,000 records, {large:N0} after 1,290,000");
    }
}
