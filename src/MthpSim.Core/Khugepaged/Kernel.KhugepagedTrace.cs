using System.Text;

namespace MthpSim.Core;

// kernel/trace: the huge_memory events as /sys/kernel/tracing/trace shows them.
public sealed partial class Kernel
{
    /// <summary>
    /// The trace file with the huge_memory events enabled: ftrace's header (entries kept in the ring
    /// and entries written, one CPU in the model), then one line per event, oldest first.
    /// <paramref name="extended"/> adds the model's own fields to each line.
    /// </summary>
    public string RenderKhugepagedTrace(bool extended)
    {
        var sb = new StringBuilder("# tracer: nop\n#\n");
        sb.Append($"# entries-in-buffer/entries-written: {_trace.Count}/{_trace.Count + _trace.Overwritten}   #P:1\n");
        sb.Append("""
            #
            #                                _-----=> irqs-off/BH-disabled
            #                               / _----=> need-resched
            #                              | / _---=> hardirq/softirq
            #                              || / _--=> preempt-depth
            #                              ||| / _-=> migrate-disable
            #                              |||| /     delay
            #           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
            #              | |         |   |||||     |         |

            """);
        foreach (var e in _trace) sb.Append(e.Format(Geo.PtrsPerPte, extended)).Append('\n');
        return sb.ToString();
    }
}
