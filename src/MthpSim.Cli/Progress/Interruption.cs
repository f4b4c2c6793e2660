using System.Runtime.InteropServices;
using MthpSim.Oracle.Settings;

namespace MthpSim.Cli.Progress;

/// <summary>
/// SIGINT and SIGTERM during a long command: the first one asks the command to stop after the
/// statement or episode it is in, so it can report what finished; a second one ends the process at
/// once. Registered only for the command's run (the oracle has its own handler, which restores the
/// machine's settings).
/// </summary>
public sealed class Interruption : IDisposable
{
    readonly CancellationTokenSource _cancel = new();
    readonly List<PosixSignalRegistration> _registrations = new();
    int _signal;   // 0 until a signal came; then the PosixSignal (negative numbers)

    Interruption(bool listen)
    {
        if (!listen) return;
        foreach (var sig in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            _registrations.Add(PosixSignalRegistration.Create(sig, OnSignal));
    }

    /// <summary>Listens for SIGINT and SIGTERM until disposed.</summary>
    public static Interruption Listen() => new(listen: true);

    /// <summary>Never interrupted (a command run in-process by a test, which must not take the test host's signals).</summary>
    public static Interruption Never() => new(listen: false);

    /// <summary>Cancelled once a signal came.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>The signal that came, if any.</summary>
    public PosixSignal? Signal => _signal == 0 ? null : (PosixSignal)_signal;

    /// <summary>128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as a shell reports a process a signal ended.</summary>
    public int ExitStatus => SettingsGuard.ExitStatus(Signal ?? PosixSignal.SIGINT);

    /// <summary>Cancels as if a signal had come (tests).</summary>
    public void Raise(PosixSignal signal) => OnSignal(signal, out _);

    void OnSignal(PosixSignalContext ctx)
    {
        OnSignal(ctx.Signal, out bool first);
        // The first signal is ours to handle; a second one gets the default (the process ends).
        ctx.Cancel = first;
    }

    void OnSignal(PosixSignal signal, out bool first)
    {
        first = Interlocked.CompareExchange(ref _signal, (int)signal, 0) == 0;
        if (first) _cancel.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
