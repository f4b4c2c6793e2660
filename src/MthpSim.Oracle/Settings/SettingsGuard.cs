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
    // What was saved, kept in memory too: after a signal the journal is gone, and the main thread,
    // still unwinding, may write a setting once more (e.g. khugepaged's scan sleep after a full-scans wait).
    readonly Dictionary<string, string> _saved;
    bool _restored;

    public SettingsGuard(LiveSettings settings)
    {
        _settings = settings;
        _saved = settings.SaveToJournal();
        foreach (var sig in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            _signals.Add(PosixSignalRegistration.Create(sig, OnSignal));
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>Work to do before restoring (stop the live drivers, so no memory is faulted under changed settings).</summary>
    public void OnBeforeRestore(Action a) { lock (_lock) _beforeRestore.Add(a); }

    /// <summary>The signal that interrupted the run, if one did.</summary>
    public PosixSignal? Interrupted { get; private set; }

    /// <summary>
    /// Stops the drivers and restores the settings at once, then lets the run unwind: the main
    /// thread's next driver command fails, and the command exits with 128 + the signal number.
    /// </summary>
    void OnSignal(PosixSignalContext ctx)
    {
        ctx.Cancel = true;
        Interrupted = ctx.Signal;
        Restore();
        Console.Error.WriteLine($"mthpsim oracle: interrupted by {ctx.Signal}; THP settings restored");
    }

    /// <summary>Conventional exit status for a signal: 128 + its number.</summary>
    public static int ExitStatus(PosixSignal s) => 128 + s switch { PosixSignal.SIGINT => 2, PosixSignal.SIGTERM => 15, PosixSignal.SIGHUP => 1, _ => 0 };

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
        // The signal's restore ran beside the main thread; now that it has unwound, put back anything it wrote since.
        if (Interrupted != null)
            foreach (var e in _settings.Apply(_saved)) Console.Error.WriteLine($"mthpsim oracle: could not restore {e}");
        foreach (var s in _signals) s.Dispose();
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
    }
}
