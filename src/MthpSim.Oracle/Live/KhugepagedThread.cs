using System.Globalization;

namespace MthpSim.Oracle.Live;

/// <summary>
/// The khugepaged kernel thread as /proc shows it, so that the oracle can wait out a pass that it
/// woke. In mm/khugepaged.c the thread runs khugepaged_do_scan() (one pass: up to pages_to_scan
/// pages, at most twice round the mm list) and then sleeps in khugepaged_wait_work(): for
/// scan_sleep_millisecs while any mm is registered, else until one is. Writing scan_sleep_millisecs
/// or alloc_sleep_millisecs ends that sleep at once (the expiry is reset, then the queue is woken);
/// the first mm to register on an empty list wakes it too; and enabling the PMD size while the
/// thread is stopped starts a new one, which scans before it first sleeps. Other wake-ups (writes
/// of `enabled` that change nothing) find the timed sleep's condition false and sleep on.
/// </summary>
public static class KhugepagedThread
{
    /// <summary>
    /// One reading: the thread (pid 0 when there is none), its state letter, where it sleeps
    /// (`/proc/PID/wchan`), its voluntary context switches, and the khugepaged counters.
    /// </summary>
    public readonly record struct Sample(int Pid, char State, string Wchan, long Sleeps, long FullScans, long PagesCollapsed)
    {
        /// <summary>
        /// Whether the thread sleeps in its own function: khugepaged_wait_work() is inlined into
        /// khugepaged(), so its timed sleep shows as `khugepaged`; a sleep inside a pass (reclaim, a lock) shows another name.
        /// </summary>
        public bool InScanSleep => State == 'S' && Wchan == "khugepaged";

        /// <summary>Whether the thread has gone to sleep at least once since <paramref name="before"/> (a new thread counts from 0).</summary>
        public bool SleptSince(Sample before) => Pid != before.Pid ? Sleeps > 0 : Sleeps > before.Sleeps;
    }

    /// <summary>The khugepaged kthread (a child of kthreadd, pid 2), or 0 when it is stopped.</summary>
    public static int FindPid()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out int pid) && IsKhugepaged(pid)) return pid;
        return 0;
    }

    /// <summary>Whether the task <paramref name="pid"/> is the khugepaged kthread (false when it is gone).</summary>
    public static bool IsKhugepaged(int pid)
    {
        string dir = $"/proc/{pid}";
        try
        {
            return File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "khugepaged" && Field(File.ReadAllText(Path.Combine(dir, "status")), "PPid") == 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    static long Field(string status, string name)
    {
        foreach (var line in status.Split('\n'))
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
                return long.Parse(line[(name.Length + 1)..].Trim().Split(' ', '\t')[0], CultureInfo.InvariantCulture);
        return 0;
    }

    public static Sample Read(int pid)
    {
        var counters = LiveProcfs.ThpCounters();
        long full = counters.GetValueOrDefault("khugepaged/full_scans"), collapsed = counters.GetValueOrDefault("khugepaged/pages_collapsed");
        if (pid == 0) return new Sample(0, '-', "", 0, full, collapsed);
        try
        {
            string status = File.ReadAllText($"/proc/{pid}/status");
            int at = status.IndexOf("State:", StringComparison.Ordinal);
            char state = at < 0 ? '?' : status[(at + "State:".Length)..].TrimStart()[0];
            string wchan = File.ReadAllText($"/proc/{pid}/wchan").Trim();
            return new Sample(pid, state, wchan, Field(status, "voluntary_ctxt_switches"), full, collapsed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Sample(0, '-', "", 0, full, collapsed);   // stopped meanwhile
        }
    }

    public static Sample Read() => Read(FindPid());

    /// <summary>
    /// Ends khugepaged's sleep now (rewrites scan_sleep_millisecs with its value) and returns the
    /// reading taken just before, for <see cref="WaitAsleep"/>.
    /// </summary>
    public static Sample Wake()
    {
        var before = Read();
        string file = $"{Settings.LiveSettings.Root}/khugepaged/scan_sleep_millisecs";
        Settings.SysfsFile.WriteValue(file, File.ReadAllText(file).Trim());
        return before;
    }

    /// <summary>
    /// Waits until khugepaged has slept since <paramref name="woken"/> and has then stayed in its
    /// scan sleep (<see cref="Sample.InScanSleep"/>), with the same switch count and counters, for
    /// <paramref name="quiet"/>: the pass it was woken for is over. A sleep inside a pass has another
    /// wchan, so the quiet time only has to see two readings alike. Returns false when
    /// <paramref name="timeout"/> passes first. No thread: nothing can run. Read every <paramref name="poll"/> (10 ms unless given).
    /// </summary>
    public static bool WaitAsleep(Sample woken, TimeSpan quiet, TimeSpan timeout, TimeSpan? poll = null)
    {
        int pollMs = (int)(poll ?? TimeSpan.FromMilliseconds(10)).TotalMilliseconds;
        var deadline = DateTime.UtcNow + timeout;
        Sample? last = null;
        DateTime quietSince = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            var s = Read();
            if (s.Pid == 0) return true;
            bool asleep = s.InScanSleep && s.SleptSince(woken);
            if (!asleep || last != s) quietSince = DateTime.UtcNow;
            else if (DateTime.UtcNow - quietSince >= quiet) return true;
            last = s;
            Thread.Sleep(pollMs);
        }
        return false;
    }
}
