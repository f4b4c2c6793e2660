using System.Globalization;

namespace MthpSim.Oracle.Live;

/// <summary>
/// khugepaged kept on the drivers' CPU in a one-CPU session: a collapse charges its memory cgroup
/// through that CPU's charge stock and reclaims into that CPU's per-CPU swap clusters, as on the
/// model's one CPU (on the other CPU, live, its reclaim put pages in other swap slots, and swap-in
/// then took other sizes). Each thread pinned is journalled with the CPU mask it had before, so
/// that a run killed by SIGKILL leaves a list the next run undoes first.
/// </summary>
public sealed class LiveKhugepagedAffinity : JournalledChange
{
    readonly int _cpu;
    /// <summary>The thread pinned last (0: none yet).</summary>
    int _pinned;

    public LiveKhugepagedAffinity(string journal, int cpu) : base(journal) => _cpu = cpu;

    /// <summary>The affinity journal that goes with a settings journal.</summary>
    public static string JournalFor(string settingsJournal) => settingsJournal + ".khugepaged-affinity";

    /// <summary>
    /// Pins the khugepaged thread running now unless it is the one pinned last: enabling the PMD
    /// size while the thread is stopped starts a new one, with every CPU allowed.
    /// </summary>
    public void Follow()
    {
        int pid = KhugepagedThread.FindPid();
        if (pid == 0 || pid == _pinned) return;
        lock (Lock)
        {
            if (Closed || CpuAffinity.Get(pid) is not { } before) return;   // stopped, or the thread is gone
            File.AppendAllLines(Journal, [$"{pid} {CpuAffinity.Format(before)}"]);
            if (CpuAffinity.Set(pid, CpuAffinity.Only(_cpu)) is int errno and not 0)
                throw new OracleUnavailableException($"cannot keep khugepaged ({pid}) on CPU {_cpu}: errno {errno}");
            _pinned = pid;
        }
    }

    protected override List<string> Undo(string journal) => CleanupFromJournal(journal);

    /// <summary>Gives each journalled thread that still runs its CPU mask back, then deletes the journal; returns what failed.</summary>
    public static List<string> CleanupFromJournal(string journal)
    {
        var failed = new List<string>();
        foreach (var line in File.ReadAllLines(journal))
        {
            var words = line.Split(' ');
            if (words.Length != 2 || !int.TryParse(words[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || CpuAffinity.Parse(words[1]) is not { } mask)
            {
                failed.Add($"the khugepaged affinity journal {journal} has the line '{line}', not a thread and a CPU mask; left alone");
                continue;
            }
            // A thread that has exited took its pinning with it (and its pid may be another task's now).
            if (!KhugepagedThread.IsKhugepaged(pid)) continue;
            if (CpuAffinity.Set(pid, mask) is int errno and not 0) failed.Add($"could not give khugepaged ({pid}) its CPU mask {words[1]} back: errno {errno}");
        }
        if (failed.Count == 0) File.Delete(journal);
        return failed;
    }
}
