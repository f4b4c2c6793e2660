using MthpSim.Oracle.Settings;

namespace MthpSim.Tests.Oracle;

/// <summary>The settings store against a fake sysfs tree (files in a temporary directory).</summary>
public class LiveSettingsTests : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), $"mthpsim-fakesys-{Guid.NewGuid():N}");
    readonly string _journal;

    public LiveSettingsTests()
    {
        _journal = Path.Combine(_root, "journal", "saved");
        Directory.CreateDirectory(Path.Combine(_root, "khugepaged"));
        Directory.CreateDirectory(Path.Combine(_root, "hugepages-64kB"));
        Directory.CreateDirectory(Path.Combine(_root, "hugepages-2048kB"));
        File.WriteAllText(Path.Combine(_root, "enabled"), "always [madvise] never\n");
        File.WriteAllText(Path.Combine(_root, "khugepaged/max_ptes_none"), "511\n");
        File.WriteAllText(Path.Combine(_root, "hugepages-64kB/enabled"), "always inherit madvise [never]\n");
        File.WriteAllText(Path.Combine(_root, "hugepages-2048kB/enabled"), "always [inherit] madvise never\n");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Lists_the_settings_that_exist_and_reads_selected_words()
    {
        var s = new LiveSettings(_root, _journal);
        Assert.Equal(new[] { "enabled", "khugepaged/max_ptes_none", "hugepages-64kB/enabled", "hugepages-2048kB/enabled" }, s.SettingFiles());
        Assert.Equal("madvise", s.Read("enabled"));
        Assert.Equal("511", s.Read("khugepaged/max_ptes_none"));
    }

    [Fact]
    public void The_journal_is_written_before_changes_and_deleted_after_restore()
    {
        var s = new LiveSettings(_root, _journal);
        var saved = s.SaveToJournal();
        Assert.True(File.Exists(_journal));
        Assert.Equal("madvise", saved["enabled"]);
        // The changes a run makes, in the form the kernel shows them (a fake file holds what is written).
        File.WriteAllText(Path.Combine(_root, "enabled"), "[always] madvise never\n");
        File.WriteAllText(Path.Combine(_root, "khugepaged/max_ptes_none"), "0\n");
        // A second LiveSettings (as the next run would) restores from the journal.
        var again = new LiveSettings(_root, _journal);
        Assert.True(again.JournalExists);
        Assert.Empty(again.RestoreFromJournal());
        Assert.Equal("madvise", again.Read("enabled"));
        Assert.Equal("511", again.Read("khugepaged/max_ptes_none"));
        Assert.Equal("never", again.Read("hugepages-64kB/enabled"));
        Assert.False(File.Exists(_journal));
    }
}
