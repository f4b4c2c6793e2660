using MthpSim.Trace.Format;
using MthpSim.Trace.Record;
using Xunit;

namespace MthpSim.Tests.Trace;

/// <summary>The converter against lines as perf script 6.1 printed them on the live machine (docs/trace-format.md, "Recording").</summary>
public class PerfScriptConverterTests
{
    static (List<TraceEvent> Events, PerfScriptConverter C) Convert(string text, Func<string, long?>? size = null)
    {
        var events = new List<TraceEvent>();
        var c = new PerfScriptConverter(events.Add, size ?? (_ => null));
        foreach (var line in text.Split('\n')) c.Line(line);
        c.Finish();
        return (events, c);
    }

    const string Exec = """
            0/0         0.000000000: PERF_RECORD_COMM: perf-exec:2168/2168
         2168/2168  16507.628285378: PERF_RECORD_COMM exec: setarch:2168/2168
         2168/2168  16507.628310485: PERF_RECORD_MMAP2 2168/2168: [0x7ffc7c0be000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]
         2168/2168  16507.628348697: exceptions:page_fault_kernel: address=0x55ddf0a68128 ip=elf_load error_code=0x2
         2168/2168  16507.628418778:     sched:sched_process_exec: filename=/usr/bin/setarch pid=2168 old_pid=2168
         2168/2168  16507.628442613:   exceptions:page_fault_user: address=0x7f10851d7b70 ip=0x7f10851d7b70 error_code=0x14
         2168/2168  16507.630000000:            task:task_newtask: pid=2169 comm=setarch clone_flags=1200000 oom_score_adj=0
         2169/2169  16507.630100000:   exceptions:page_fault_user: address=0x7f10851d7b70 ip=0x7f10851d7b70 error_code=0x7
         2168/2168  16507.631000000: PERF_RECORD_COMM exec: ls:2168/2168
         2168/2168  16507.631010000: PERF_RECORD_MMAP2 2168/2168: [0x7ffffffde000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]
         2168/2168  16507.631020000: PERF_RECORD_MMAP2 2168/2168: [0x555555554000(0x4000) @ 0 fe:00 247851 0]: r--p /usr/bin/ls
         2168/2168  16507.631030000: exceptions:page_fault_kernel: address=0x7fffffffe2f9 ip=_copy_to_user error_code=0x2
         2168/2168  16507.631040000: exceptions:page_fault_kernel: address=0xffffffff81000000 ip=x error_code=0x0
         2168/2168  16507.631050000:     sched:sched_process_exec: filename=/usr/bin/ls pid=2168 old_pid=2168
         2168/2168  16507.631060000:   exceptions:page_fault_user: address=0x555555554040 ip=0x7ffff7fe4b70 error_code=0x4
         2168/2168  16507.631070000:   exceptions:page_fault_user: address=0x7fffffffdddc ip=0x7ffff7fe4b70 error_code=0x7
        """;

    [Fact]
    public void An_exec_is_named_before_what_it_mapped_and_a_wrapper_is_left_out_with_its_children()
    {
        var (ev, c) = Convert(Exec, p => p == "/usr/bin/ls" ? 151344 : null);
        Assert.Equal(0, c.Unparsed);
        Assert.Equal(
            [TraceEventKind.Exec, TraceEventKind.KernelMap, TraceEventKind.File, TraceEventKind.KernelMap, TraceEventKind.Fault, TraceEventKind.Fault, TraceEventKind.Fault],
            ev.Select(e => e.Kind));
        Assert.Equal("/usr/bin/ls", ev[0].Path);
        Assert.Equal(16507_631000000L, ev[0].Time);   // the exec began at its COMM record
        Assert.Equal((0x7ffffffde000UL, 0x21000UL, "[stack]"), (ev[1].Addr, ev[1].Len, ev[1].Path));
        Assert.Equal(LinuxAbi.ProtRead | LinuxAbi.ProtWrite, ev[1].Prot);
        Assert.Equal(151344UL, ev[2].Len);
        Assert.Equal(FaultFlags.Write | FaultFlags.Kernel, ev[4].Access);   // the kernel address was dropped
        Assert.Equal(FaultFlags.Read, ev[5].Access);
        Assert.Equal(FaultFlags.Write | FaultFlags.Present, ev[6].Access);
    }

    [Fact]
    public void A_system_call_is_one_record_at_its_exit_with_the_path_perf_saw_it_map()
    {
        var (ev, _) = Convert("""
             2168/2168  16507.628589117:       raw_syscalls:sys_enter: NR 9 (0, 2000, 3, 22, ffffffff, 0)
             2168/2168  16507.628632469: PERF_RECORD_MMAP2 2168/2168: [0x7f10851b3000(0x2000) @ 0x7f10851b3000 00:00 0 0]: rw-p //anon
             2168/2168  16507.628635274:        raw_syscalls:sys_exit: NR 9 = 139708929355776
             2168/2168  16507.628672724:       raw_syscalls:sys_enter: NR 9 (0, 8d87, 1, 2, 3, 0)
             2168/2168  16507.628679647: PERF_RECORD_MMAP2 2168/2168: [0x7f10851aa000(0x9000) @ 0 fe:00 793 0]: r--p /etc/ld.so.cache
             2168/2168  16507.628681410:        raw_syscalls:sys_exit: NR 9 = 139708929318912
             2168/2168  16507.628700000:       raw_syscalls:sys_enter: NR 11 (7f10851aa000, 8d87, 0, 0, 0, 0)
             2168/2168  16507.628710000:        raw_syscalls:sys_exit: NR 11 = -22
             2168/2168  16507.628720000:        raw_syscalls:sys_exit: NR 12 = 94411741499392
             2168/2168  16507.628730000:       raw_syscalls:sys_enter: NR 157 (f, 0, 0, 0, 0, 0)
             2168/2168  16507.628740000:        raw_syscalls:sys_exit: NR 157 = 0
             2168/2168  16507.628750000:       raw_syscalls:sys_enter: NR 149 (7f10851aa000, 1000, 0, 0, 0, 0)
             2168/2168  16507.628760000:        raw_syscalls:sys_exit: NR 149 = 0
            """);
        Assert.Equal([TraceEventKind.Mmap, TraceEventKind.Mmap, TraceEventKind.Munmap, TraceEventKind.Syscall], ev.Select(e => e.Kind));
        Assert.Equal((0x2000UL, LinuxAbi.MapPrivate | LinuxAbi.MapAnonymous, -1, 0x7f10851b3000L, (string?)null), (ev[0].Len, ev[0].MapFlags, ev[0].Fd, ev[0].Ret, ev[0].Path));
        Assert.Equal(16507_628635274L - 16507_628589117L, ev[0].Dur);
        Assert.Equal(("/etc/ld.so.cache", 3), (ev[1].Path, ev[1].Fd));
        Assert.Equal(-22, ev[2].Ret);
        Assert.Equal(149UL, ev[3].Arg5);   // mlock kept as a raw call
    }

    [Fact]
    public void What_cannot_be_read_is_counted_not_skipped()
    {
        var (ev, c) = Convert("""
             2168/2168  16507.628720000:        raw_syscalls:sys_exit: NR 12 = 94411741499392
             3169/3169  16642.456637176: PERF_RECORD_LOST lost 155
             2168/2168  16507.628730000:       something:else: x=1
            garbage
            """);
        Assert.Equal(1, c.ExitsWithoutEnter);
        Assert.Equal(155, c.LostEvents);
        Assert.Equal(2, c.Unparsed);
        Assert.Contains("something:else", c.FirstUnparsed);
        Assert.Equal(TraceEventKind.Lost, Assert.Single(ev).Kind);
    }

    [Fact]
    public void Tasks_threads_and_exits()
    {
        var (ev, _) = Convert("""
             2256/2256  16523.000000000:            task:task_newtask: pid=2257 comm=xz clone_flags=3d0f00 oom_score_adj=0
             2256/2257  16523.100000000:     sched:sched_process_exit: comm=xz pid=2257 prio=120 group_dead=false
             2256/2256  16523.200000000:     sched:sched_process_exit: comm=xz pid=2256 prio=120 group_dead=true
             2256/2256  16523.300000000:     sched:sched_process_exec: filename=/opt/my prog/bin pid=2256 old_pid=2257
            """);
        Assert.Equal((2257, 0x3d0f00UL), (ev[0].Child, ev[0].CloneFlags));
        Assert.False(ev[1].GroupDead);
        Assert.True(ev[2].GroupDead);
        Assert.Equal(("/opt/my prog/bin", 2257UL), (ev[3].Path, ev[3].Arg2));
    }
}
