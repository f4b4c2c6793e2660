using System.Globalization;
using System.Text;

namespace MthpSim.Trace.Format;

/// <summary>One line per record, as <c>mthpsim trace dump</c> prints it: <c>TIME PID TID KIND key=value...</c>.</summary>
public static class TraceText
{
    public static string Format(in TraceEvent e)
    {
        var b = new StringBuilder(96);
        b.Append(CultureInfo.InvariantCulture, $"{e.Time} {e.Pid} {e.Tid} {Name(e.Kind)}");
        switch (e.Kind)
        {
            case TraceEventKind.File: Kv(b, "size", e.Len, hex: false); Path(b, e); break;
            case TraceEventKind.Exec: Kv(b, "old_tid", e.Arg2, hex: false); Path(b, e); break;
            case TraceEventKind.KernelMap:
                Kv(b, "addr", e.Addr); Kv(b, "len", e.Len); b.Append(" prot=").Append(ProtText(e.Prot, e.MapFlags));
                Kv(b, "pgoff", e.Arg5); Path(b, e); break;
            case TraceEventKind.Mmap:
                Kv(b, "addr", e.Addr); Kv(b, "len", e.Len); Kv(b, "prot", e.Arg2); Kv(b, "flags", e.Arg3);
                b.Append(CultureInfo.InvariantCulture, $" fd={e.Fd}"); Kv(b, "off", e.Arg5); Path(b, e); Result(b, e); break;
            case TraceEventKind.Munmap: Kv(b, "addr", e.Addr); Kv(b, "len", e.Len); Result(b, e); break;
            case TraceEventKind.Mremap:
                Kv(b, "addr", e.Addr); Kv(b, "oldlen", e.Len); Kv(b, "newlen", e.Arg2); Kv(b, "flags", e.Arg3); Kv(b, "newaddr", e.Arg4);
                Result(b, e); break;
            case TraceEventKind.Brk: Kv(b, "addr", e.Addr); Result(b, e); break;
            case TraceEventKind.Mprotect:
                Kv(b, "addr", e.Addr); Kv(b, "len", e.Len); Kv(b, "prot", e.Arg2);
                if (e.Arg3 != 0) Kv(b, "pkey", e.Arg3 - 1, hex: false);
                Result(b, e); break;
            case TraceEventKind.Madvise: Kv(b, "addr", e.Addr); Kv(b, "len", e.Len); Kv(b, "advice", e.Arg2, hex: false); Result(b, e); break;
            case TraceEventKind.Task: Kv(b, "child", e.Arg2, hex: false); Kv(b, "flags", e.Arg3); break;
            case TraceEventKind.Exit: Kv(b, "group_dead", e.Arg2, hex: false); break;
            case TraceEventKind.Fault:
                Kv(b, "addr", e.Addr);
                var f = e.Access;
                b.Append(" acc=").Append((f & FaultFlags.Exec) != 0 ? 'X' : (f & FaultFlags.Write) != 0 ? 'W' : 'R');
                b.Append(" mode=").Append((f & FaultFlags.Kernel) != 0 ? 'K' : 'U');
                b.Append(" pres=").Append((f & FaultFlags.Present) != 0 ? '1' : '0');
                break;
            case TraceEventKind.Prctl: Kv(b, "option", e.Arg2, hex: false); Kv(b, "arg2", e.Arg3); Result(b, e); break;
            case TraceEventKind.Syscall:
                Kv(b, "nr", e.Arg5, hex: false);
                b.Append(CultureInfo.InvariantCulture, $" args=0x{e.Addr:x},0x{e.Len:x},0x{e.Arg2:x},0x{e.Arg3:x},0x{e.Arg4:x}");
                Result(b, e); break;
            case TraceEventKind.Lost: Kv(b, "n", e.Arg2, hex: false); break;
        }
        return b.ToString();
    }

    public static string Name(TraceEventKind k) => k switch
    {
        TraceEventKind.KernelMap => "KMAP",
        _ => k.ToString().ToUpperInvariant(),
    };

    /// <summary>rwxp / rwxs, as /proc/PID/maps writes a mapping's protection.</summary>
    public static string ProtText(int prot, int mapFlags) => string.Concat(
        (prot & 1) != 0 ? "r" : "-", (prot & 2) != 0 ? "w" : "-", (prot & 4) != 0 ? "x" : "-",
        (mapFlags & LinuxAbi.MapShared) != 0 ? "s" : "p");

    static void Kv(StringBuilder b, string key, ulong v, bool hex = true) =>
        b.Append(' ').Append(key).Append('=').Append(hex ? "0x" + v.ToString("x", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture));

    static void Path(StringBuilder b, in TraceEvent e) => b.Append(" path=").Append(e.Path ?? "");

    static void Result(StringBuilder b, in TraceEvent e)
    {
        b.Append(" ret=").Append(e.Ret < 0 ? e.Ret.ToString(CultureInfo.InvariantCulture) : "0x" + e.Ret.ToString("x", CultureInfo.InvariantCulture));
        b.Append(CultureInfo.InvariantCulture, $" dur={e.Dur}");
    }
}
