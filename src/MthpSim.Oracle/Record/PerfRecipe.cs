using System.Globalization;
using MthpSim.Trace.Format;

namespace MthpSim.Oracle.Record;

/// <summary>
/// The perf command lines of a recording (docs/trace-format.md, "Recording"): every user-address
/// fault, the memory system calls (filtered in the kernel), task creation, exec and exit, and the
/// mappings perf sees made (-d), on CLOCK_MONOTONIC with 16 MiB buffers per CPU.
/// </summary>
public static class PerfRecipe
{
    /// <summary>In-kernel filter on the syscall number, for raw_syscalls:sys_enter and sys_exit.</summary>
    public static string SyscallFilter => string.Join(" || ", LinuxAbi.Nr.Recorded.Select(n => "id == " + n.ToString(CultureInfo.InvariantCulture)));

    public static List<string> RecordArgs(string perfData, IEnumerable<string> command) =>
    [
        "record", "-q", "-B", "-N", "-d", "--no-bpf-event", "-k", "CLOCK_MONOTONIC", "-m", "4096", "-o", perfData,
        "-e", "exceptions:page_fault_user",
        "-e", "exceptions:page_fault_kernel", "--filter", "address < 0x800000000000",
        "-e", "raw_syscalls:sys_enter", "--filter", SyscallFilter,
        "-e", "raw_syscalls:sys_exit", "--filter", SyscallFilter,
        "-e", "task:task_newtask", "-e", "sched:sched_process_exec", "-e", "sched:sched_process_exit",
        "--", .. command,
    ];

    public static List<string> ScriptArgs(string perfData) =>
        ["script", "-i", perfData, "-F", "pid,tid,time,event,trace", "--ns", "--show-lost-events", "--show-mmap-events", "--show-task-events"];

    public static List<string> StatsArgs(string perfData) => ["report", "-i", perfData, "--stats"];
}
