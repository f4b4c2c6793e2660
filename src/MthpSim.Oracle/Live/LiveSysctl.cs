using System.Globalization;
using MthpSim.Oracle.Settings;

namespace MthpSim.Oracle.Live;

/// <summary>
/// vm.compaction_proactiveness changed by a live run (a scenario's <c>sysctl</c>, or 0 for the
/// fragmentation experiment so that kcompactd's proactive compaction does not compact behind its
/// measurements). The saved value is journalled before the first write, as the THP settings are, so
/// a run killed by SIGKILL leaves a note the next run restores from first.
/// </summary>
public sealed class CompactionProactiveness : JournalledChange
{
    public const string Path = "/proc/sys/vm/compaction_proactiveness";

    CompactionProactiveness(string journal) : base(journal) { }

    /// <summary>The proactiveness journal that goes with a settings journal.</summary>
    public static string JournalFor(string settingsJournal) => settingsJournal + ".proactiveness";

    /// <summary>Saves the current value in the journal, then writes <paramref name="value"/>; throws when the write fails.</summary>
    public static CompactionProactiveness Set(int value, string journal)
    {
        var change = Save(journal);
        int rc = change.Write(value.ToString(CultureInfo.InvariantCulture));
        if (rc != 0)
        {
            change.Dispose();
            throw new OracleUnavailableException($"could not write {Path}: errno {-rc}");
        }
        return change;
    }

    /// <summary>Journals the current value; <see cref="Write"/> then changes it as often as wanted, and disposing puts it back.</summary>
    public static CompactionProactiveness Save(string journal)
    {
        string saved = File.ReadAllText(Path).Trim();
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(journal)!);
        File.WriteAllText(journal + ".tmp", saved + "\n");
        File.Move(journal + ".tmp", journal, overwrite: true);
        return new CompactionProactiveness(journal);
    }

    /// <summary>Writes the sysctl; 0 or the write's -errno (-EINVAL for a value the kernel refuses).</summary>
    public int Write(string value)
    {
        lock (Lock)
        {
            if (Closed) throw new InvalidOperationException("the live session has stopped");
            return SysfsFile.WriteValue(Path, value);
        }
    }

    protected override List<string> Undo(string journal) => CleanupFromJournal(journal);

    /// <summary>Writes the journalled value back and deletes the journal; returns what failed.</summary>
    public static List<string> CleanupFromJournal(string journal)
    {
        string saved = File.ReadAllText(journal).Trim();
        if (!int.TryParse(saved, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v > 100)
            return [$"the proactiveness journal {journal} holds '{saved}', not a value of {Path}; left alone"];
        int rc = SysfsFile.WriteValue(Path, saved);
        if (rc != 0 || File.ReadAllText(Path).Trim() != saved) return [$"could not restore {Path}={saved}: errno {-rc}"];
        File.Delete(journal);
        return [];
    }
}
