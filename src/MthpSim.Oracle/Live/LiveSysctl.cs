using System.Globalization;

namespace MthpSim.Oracle.Live;

/// <summary>
/// A /proc/sys value a live run changes (a scenario's <c>sysctl</c>; vm.compaction_proactiveness 0 for
/// the fragmentation experiment, so that kcompactd's proactive compaction does not compact behind its
/// measurements). The value found is journalled before the first write, as the THP settings are, so a
/// run killed by SIGKILL leaves a note the next run restores from first.
/// </summary>
public sealed class LiveSysctl : JournalledChange
{
    /// <summary>A sysctl the live side may change: its journal's suffix, and the largest value it takes.</summary>
    public sealed record Known(string Name, string JournalSuffix, long Max)
    {
        public string Path => "/proc/sys/" + Name.Replace('.', '/');
        public string JournalFor(string settingsJournal) => settingsJournal + JournalSuffix;
    }

    public static readonly Known CompactionProactiveness = new("vm.compaction_proactiveness", ".proactiveness", 100);
    public static readonly Known WatermarkBoostFactor = new("vm.watermark_boost_factor", ".watermark_boost_factor", int.MaxValue);
    public static readonly Known WatermarkScaleFactor = new("vm.watermark_scale_factor", ".watermark_scale_factor", 3000);
    public static readonly IReadOnlyList<Known> All = [CompactionProactiveness, WatermarkBoostFactor, WatermarkScaleFactor];

    public static Known? Find(string name) => All.FirstOrDefault(k => k.Name == name);

    readonly Known _sysctl;

    LiveSysctl(Known sysctl, string journal) : base(journal) => _sysctl = sysctl;

    /// <summary>Saves the current value in the journal, then writes <paramref name="value"/>; throws when the write fails.</summary>
    public static LiveSysctl Set(Known sysctl, long value, string journal)
    {
        var change = Save(sysctl, journal);
        int rc = change.Write(value.ToString(CultureInfo.InvariantCulture));
        if (rc != 0)
        {
            change.Dispose();
            throw new OracleUnavailableException($"could not write {sysctl.Path}: errno {-rc}");
        }
        return change;
    }

    /// <summary>Journals the current value; <see cref="Write"/> then changes it as often as wanted, and disposing puts it back.</summary>
    public static LiveSysctl Save(Known sysctl, string journal)
    {
        string saved = File.ReadAllText(sysctl.Path).Trim();
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(journal)!);
        File.WriteAllText(journal + ".tmp", saved + "\n");
        File.Move(journal + ".tmp", journal, overwrite: true);
        return new LiveSysctl(sysctl, journal);
    }

    /// <summary>Writes the sysctl; 0 or the write's -errno (-EINVAL for a value the kernel refuses).</summary>
    public int Write(string value)
    {
        lock (Lock)
        {
            if (Closed) throw new InvalidOperationException("the live session has stopped");
            return Settings.SysfsFile.WriteValue(_sysctl.Path, value);
        }
    }

    protected override List<string> Undo(string journal) => CleanupFromJournal(_sysctl, journal);

    /// <summary>Writes the journalled value back and deletes the journal; returns what failed.</summary>
    public static List<string> CleanupFromJournal(Known sysctl, string journal)
    {
        string saved = File.ReadAllText(journal).Trim();
        if (!long.TryParse(saved, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v > sysctl.Max)
            return [$"the {sysctl.Name} journal {journal} holds '{saved}', not a value of {sysctl.Path}; left alone"];
        int rc = Settings.SysfsFile.WriteValue(sysctl.Path, saved);
        if (rc != 0 || File.ReadAllText(sysctl.Path).Trim() != saved) return [$"could not restore {sysctl.Path}={saved}: errno {-rc}"];
        File.Delete(journal);
        return [];
    }
}
