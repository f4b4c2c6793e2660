using System.Runtime.InteropServices;

namespace MthpSim.Oracle.Settings;

/// <summary>
/// Restores the saved THP settings on every way out of an oracle run: normal end, exception
/// (Dispose), Ctrl-C, SIGTERM and SIGHUP (signal handlers restore, then end the process with the
/// signal's conventional status) and process exit. Restoring is idempotent.
/// </summary>
public sealed class SettingsGuard : IDisposable
{
    readonly LiveSettings _settings;
    readonly object _lock = new();
    readonly List<PosixSignalRegistration> _signals = new();
    readonly List<Action> _beforeRestore = new();
    bool _restored;

    public SettingsGuard(LiveSettings settings)
    {
        _settings = settings;
        settings.SaveToJournal();
        foreach (var sig in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            _signals.Add(PosixSignalRegistration.Create(sig, OnSignal));
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>Work to do before restoring (stop the live drivers, so no memory is faulted under changed settings).</summary>
    public void OnBeforeRestore(Action a) { lock (_lock) _beforeRestore.Add(a); }

    void OnSignal(PosixSignalContext ctx)
    {
        Restore();
        Console.Error.WriteLine($"mthpsim oracle: interrupted by {ctx.Signal}; THP settings restored");
        Environment.Exit(128 + ctx.Signal switch { PosixSignal.SIGINT => 2, PosixSignal.SIGTERM => 15, _ => 1 });
    }

    void OnProcessExit(object? sender, EventArgs e) => Restore();

    /// <summary>Puts every setting back as it was; reports (does not throw) what failed.</summary>
    public List<string> Restore()
    {
        lock (_lock)
        {
            if (_restored) return new List<string>();
            foreach (var a in _beforeRestore)
            {
                try { a(); } catch (Exception) { /* the process may already be gone */ }
            }
            var errors = _settings.RestoreFromJournal();
            _restored = errors.Count == 0;
            foreach (var e in errors) Console.Error.WriteLine($"mthpsim oracle: could not restore {e}");
            return errors;
        }
    }

    public void Dispose()
    {
        Restore();
        foreach (var s in _signals) s.Dispose();
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
    }
}
