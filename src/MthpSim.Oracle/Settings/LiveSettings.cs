namespace MthpSim.Oracle.Settings;

/// <summary>
/// Saves, sets and restores the live kernel's THP settings (/sys/kernel/mm/transparent_hugepage).
/// Before the first change the saved values are written to a journal file; a run that dies anyway
/// (SIGKILL, power loss of the process) leaves the journal behind, and the next oracle run restores
/// from it before doing anything else. The journal is deleted once the settings are restored.
/// </summary>
public sealed class LiveSettings
{
    public const string Root = "/sys/kernel/mm/transparent_hugepage";

    /// <summary>
    /// Free page reporting (virtio-balloon): free blocks of this order and above are reported to the
    /// host, which takes their memory back, so the guest's next use of them costs host faults. Saved
    /// and restored with the THP settings; live timings turn it off (docs/cost-model.md).
    /// </summary>
    public const string PageReportingOrder = "/sys/module/page_reporting/parameters/page_reporting_order";

    /// <summary>A page_reporting_order above MAX_PAGE_ORDER (10 on x86_64): no free block is large enough to be reported.</summary>
    public const string NoPageReporting = "11";

    readonly string _root;
    readonly string _journal;
    readonly string? _pageReporting;

    public LiveSettings(string? root = null, string? journal = null)
    {
        _root = root ?? Root;
        _journal = journal ?? Environment.GetEnvironmentVariable("MTHPSIM_ORACLE_JOURNAL") ?? "/run/mthpsim-oracle/saved-settings";
        _pageReporting = root == null ? PageReportingOrder : null;   // a test's root stands for the THP directory only
    }

    public string JournalPath => _journal;

    /// <summary>Every writable setting, relative to the root, in a stable order.</summary>
    public List<string> SettingFiles()
    {
        var files = new List<string> { "enabled", "defrag", "use_zero_page", "shrink_underused", "shmem_enabled" };
        foreach (var k in new[] { "defrag", "pages_to_scan", "scan_sleep_millisecs", "alloc_sleep_millisecs", "max_ptes_none", "max_ptes_swap", "max_ptes_shared" })
            files.Add($"khugepaged/{k}");
        foreach (var dir in Directory.EnumerateDirectories(_root, "hugepages-*").Select(Path.GetFileName).OrderBy(SizeOf))
            foreach (var f in new[] { "enabled", "shmem_enabled" })
                if (File.Exists(Path.Combine(_root, dir!, f))) files.Add($"{dir}/{f}");
        if (_pageReporting != null) files.Add(_pageReporting);   // absolute: Path.Combine() keeps it as it is
        return files.Where(f => File.Exists(Path.Combine(_root, f))).ToList();
    }

    static long SizeOf(string? dir) => long.TryParse(dir?["hugepages-".Length..^"kB".Length], out long v) ? v : 0;

    /// <summary>The value a setting holds: the selected word of a choice file, or the file's text.</summary>
    public string Read(string rel)
    {
        string text = File.ReadAllText(Path.Combine(_root, rel)).Trim();
        int a = text.IndexOf('['), b = text.IndexOf(']');
        return a >= 0 && b > a ? text[(a + 1)..b] : text;
    }

    /// <summary>Writes a value; returns null on success or the error.</summary>
    public string? Write(string rel, string value)
    {
        int rc = SysfsFile.WriteValue(Path.Combine(_root, rel), value);
        return rc == 0 ? null : $"errno {-rc}";
    }

    public Dictionary<string, string> Snapshot() => SettingFiles().ToDictionary(f => f, Read);

    /// <summary>Records the current settings in the journal (before anything is changed).</summary>
    public Dictionary<string, string> SaveToJournal()
    {
        var saved = Snapshot();
        Directory.CreateDirectory(Path.GetDirectoryName(_journal)!);
        string tmp = _journal + ".tmp";
        File.WriteAllLines(tmp, saved.Select(kv => $"{kv.Key}={kv.Value}"));
        File.Move(tmp, _journal, overwrite: true);
        return saved;
    }

    public bool JournalExists => File.Exists(_journal);

    public Dictionary<string, string> LoadJournal() =>
        File.ReadAllLines(_journal).Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);

    /// <summary>
    /// Writes every value back. Some writes depend on others (shmem_enabled=force is refused while a
    /// small size inherits), so failed writes are retried after the rest. Returns what could not be set.
    /// khugepaged's sleep times go first: writing them ends its sleep at once, and enabling the PMD
    /// size may start a new thread that scans at once; either pass then sleeps the new scan sleep.
    /// </summary>
    public List<string> Apply(IReadOnlyDictionary<string, string> values)
    {
        var pending = values.Where(kv => File.Exists(Path.Combine(_root, kv.Key)) && Read(kv.Key) != kv.Value)
            .OrderBy(kv => kv.Key is "khugepaged/scan_sleep_millisecs" or "khugepaged/alloc_sleep_millisecs" ? 0 : 1).ToList();
        var errors = new List<string>();
        for (int pass = 0; pass < 3 && pending.Count > 0; pass++)
        {
            errors.Clear();
            var next = new List<KeyValuePair<string, string>>();
            foreach (var kv in pending)
            {
                string? err = Write(kv.Key, kv.Value);
                if (err != null || Read(kv.Key) != kv.Value) { next.Add(kv); errors.Add($"{kv.Key}={kv.Value}: {err ?? "value did not stick"}"); }
            }
            pending = next;
        }
        return pending.Count == 0 ? new List<string>() : errors;
    }

    /// <summary>Restores the journal's values and deletes it; returns what could not be restored.</summary>
    public List<string> RestoreFromJournal()
    {
        if (!JournalExists) return [$"the journal {_journal} is gone"];
        var errors = Apply(LoadJournal());
        if (errors.Count == 0) File.Delete(_journal);
        return errors;
    }
}
