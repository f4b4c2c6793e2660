using System.Globalization;

namespace MthpSim.Trace.Truth;

/// <summary>Reads what mthp_exit_census wrote: one "census" line per process, then the program's "exit" line.</summary>
public static class ExitCensus
{
    public sealed record Result(List<TruthProcess> Processes, int? ExitStatus, int? ExitSignal, int? ExecErrno);

    public static Result Parse(IEnumerable<string> lines)
    {
        var procs = new List<TruthProcess>();
        int? status = null, signal = null, execErrno = null;
        foreach (var line in lines)
        {
            var kv = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(w => w.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            long L(string k) => long.TryParse(kv.GetValueOrDefault(k), CultureInfo.InvariantCulture, out long v) ? v : 0;
            if (line.StartsWith("census ", StringComparison.Ordinal))
                procs.Add(new TruthProcess((int)L("pid"), kv.GetValueOrDefault("comm") ?? "?", L("rss_anon_kb"), L("rss_file_kb"), L("rss_shmem_kb"),
                    L("zero"), Orders(kv.GetValueOrDefault("anon")), Orders(kv.GetValueOrDefault("file"))));
            else if (line.StartsWith("exit ", StringComparison.Ordinal))
            {
                if (kv.ContainsKey("status")) status = (int)L("status");
                if (kv.ContainsKey("signal")) signal = (int)L("signal");
            }
            else if (line.StartsWith("exec_failed ", StringComparison.Ordinal)) execErrno = (int)L("errno");
        }
        return new Result(procs, status, signal, execErrno);
    }

    // "0:1417,4:992"
    static SortedDictionary<int, long> Orders(string? text)
    {
        var d = new SortedDictionary<int, long>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = part.Split(':');
            if (p.Length == 2 && int.TryParse(p[0], CultureInfo.InvariantCulture, out int o) && long.TryParse(p[1], CultureInfo.InvariantCulture, out long n)) d[o] = n;
        }
        return d;
    }
}
