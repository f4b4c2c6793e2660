using System.Diagnostics;
using System.Globalization;

namespace MthpSim.Oracle.Live;

/// <summary>
/// One running live driver: a process whose address space plays one scenario process. Commands and
/// responses follow Driver/PROTOCOL.md, one line each.
/// </summary>
public sealed class LiveDriver : IDisposable
{
    readonly Process _process;
    public int Pid { get; }
    public long PageSize { get; }

    public LiveDriver(string binary)
    {
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        _process = Process.Start(psi) ?? throw new OracleUnavailableException($"cannot start {binary}");
        string? ready = _process.StandardOutput.ReadLine();
        var parts = ready?.Split(' ');
        if (parts is not ["ready", var pid, var page])
            throw new OracleUnavailableException($"the live driver did not start: '{ready}'");
        Pid = int.Parse(pid, CultureInfo.InvariantCulture);
        PageSize = long.Parse(page, CultureInfo.InvariantCulture);
    }

    /// <summary>Sends one command; returns the words after "ok".</summary>
    public string[] Send(string command)
    {
        string? line;
        try
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
            line = _process.StandardOutput.ReadLine();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            throw new InvalidOperationException($"live driver {Pid} is gone ({e.Message}) during '{command}'");
        }
        if (line == null) throw new InvalidOperationException($"live driver {Pid} ended during '{command}'");
        if (line.StartsWith("err", StringComparison.Ordinal)) throw new InvalidOperationException($"live driver: '{command}': {line}");
        if (!line.StartsWith("ok", StringComparison.Ordinal)) throw new InvalidOperationException($"live driver: unexpected '{line}'");
        return line.Length > 3 ? line[3..].Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
    }

    public long SendRc(string command) => long.Parse(Send(command)[0], CultureInfo.InvariantCulture);

    public void Exit()
    {
        if (_process.HasExited) return;
        try
        {
            _process.StandardInput.WriteLine("exit");
            _process.StandardInput.Flush();
        }
        catch (IOException) { }
        if (!_process.WaitForExit(5000)) _process.Kill();
    }

    public void Dispose()
    {
        try { Exit(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
