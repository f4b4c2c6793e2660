namespace MthpSim.Oracle.Live;

/// <summary>
/// A change to the live machine a scenario makes (tmpfs mounts, a swap device) that is written to a
/// journal before it is made, so that a run killed by SIGKILL leaves a list the next run undoes first.
/// Making changes and <see cref="Cleanup"/> exclude each other: a signal's cleanup must not miss a
/// change in progress, and none is made after it.
/// </summary>
public abstract class JournalledChange : IDisposable
{
    protected readonly string Journal;
    protected readonly object Lock = new();
    protected bool Closed { get; private set; }

    protected JournalledChange(string journal) => Journal = journal;

    /// <summary>Undoes what the journal lists and deletes it once nothing is left; returns what failed.</summary>
    protected abstract List<string> Undo(string journal);

    /// <summary>Undoes every change of this run; returns what failed. Later calls do nothing.</summary>
    public List<string> Cleanup()
    {
        lock (Lock)
        {
            if (Closed) return new List<string>();
            Closed = true;
            return File.Exists(Journal) ? Undo(Journal) : new List<string>();
        }
    }

    public void Dispose()
    {
        foreach (var e in Cleanup()) Console.Error.WriteLine($"mthpsim oracle: {e}");
    }
}
