using System.Diagnostics;
using System.Globalization;

namespace MthpSim.Oracle.Live;

/// <summary>
/// One running live driver: a process whose address space plays one scenario process. Commands and
/// responses follow Driver/PROTOCOL.md, one line each.
/// </summary>
public sealed class LiveDriver : IDisposable
{
    /// <summary>
    /// Keeps the driver on one CPU (a forked driver inherits it): memory cgroup charges then go
    /// through one per-CPU charge stock, as in the model, instead of one per CPU the driver ran on.
    /// </summary>
    public void PinToCpu(int cpu)
    {
        if (CpuAffinity.Set(Pid, CpuAffinity.Only(cpu)) is int errno and not 0)
            throw new OracleUnavailableException($"cannot pin driver {Pid} to CPU {cpu}: errno {errno}");
    }

    readonly Process? _process;
    readonly TextWriter _in;
    readonly TextReader _out;
    readonly IDisposable[] _streams;
    bool _exited;
    public int Pid { get; }
    public long PageSize { get; }

    /// <summary>Starts a driver process.</summary>
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
        _in = _process.StandardInput;
        _out = _process.StandardOutput;
        _streams = [];
        (Pid, PageSize) = ReadReady();
    }

    /// <summary>A driver forked from another one, serving the protocol on two FIFOs (Driver/PROTOCOL.md, "fork").</summary>
    LiveDriver(string inFifo, string outFifo)
    {
        // The child opens OUT first, then IN: open them in the same order, or both sides wait forever.
        var outStream = new FileStream(outFifo, FileMode.Open, FileAccess.Read);
        var inStream = new FileStream(inFifo, FileMode.Open, FileAccess.Write);
        _out = new StreamReader(outStream);
        _in = new StreamWriter(inStream) { AutoFlush = true };
        _streams = [_in, _out];
        (Pid, PageSize) = ReadReady();
    }

    (int, long) ReadReady()
    {
        string? ready = _out.ReadLine();
        var parts = ready?.Split(' ');
        if (parts is not ["ready", var pid, var page])
            throw new OracleUnavailableException($"the live driver did not start: '{ready}'");
        return (int.Parse(pid, CultureInfo.InvariantCulture), long.Parse(page, CultureInfo.InvariantCulture));
    }

    /// <summary>Forks this driver: the child is a copy of its address space, as fork(2) makes it.</summary>
    public LiveDriver Fork(string fifoDir)
    {
        string inFifo = Path.Combine(fifoDir, $"fork-{Pid}-{Environment.TickCount64}.in");
        string outFifo = inFifo[..^3] + ".out";
        Fifo.Make(inFifo);
        Fifo.Make(outFifo);
        long rc = SendRc($"fork {inFifo} {outFifo}");
        if (rc < 0) throw new InvalidOperationException($"live fork failed: errno {-rc}");
        var child = new LiveDriver(inFifo, outFifo);
        File.Delete(inFifo);
        File.Delete(outFifo);
        // The child's first command may fault a page of the driver's own (measured: one minor fault
        // in about a third of runs, none once any command ran first): a touch of nothing takes it
        // now, before the child's fault counts are taken as its starting point.
        child.SendRc("touch 0 0 0 0");
        return child;
    }

    /// <summary>Sends one command; returns the words after "ok".</summary>
    public string[] Send(string command)
    {
        string? line;
        // A command the kernel never returns from (a livelock) would otherwise hang the run in silence.
        long sent = Environment.TickCount64;
        using var watch = new Timer(_ => ReportSlow(command, sent), null, SlowAfter, SlowAfter);
        try
        {
            _in.WriteLine(command);
            _in.Flush();
            line = _out.ReadLine();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            throw new LiveDriverGoneException($"live driver {Pid} is gone ({e.Message}) during '{command}'");
        }
        if (line == null) throw new LiveDriverGoneException($"live driver {Pid} ended during '{command}'");
        if (line.StartsWith("err", StringComparison.Ordinal)) throw new InvalidOperationException($"live driver: '{command}': {line}");
        if (!line.StartsWith("ok", StringComparison.Ordinal)) throw new InvalidOperationException($"live driver: unexpected '{line}'");
        return line.Length > 3 ? line[3..].Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
    }

    /// <summary>How long a command may go unanswered before <see cref="SlowReport"/> hears of it (and again each time as long).</summary>
    internal TimeSpan SlowAfter { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Where a command left unanswered is reported: stderr.</summary>
    internal TextWriter SlowReport { get; init; } = Console.Error;

    /// <summary>Says which command a driver is still in, and where its kernel stack is (a livelock shows there).</summary>
    void ReportSlow(string command, long sent)
    {
        long seconds = (Environment.TickCount64 - sent) / 1000;
        string stack;
        try { stack = string.Join(" <- ", File.ReadAllLines($"/proc/{Pid}/stack").Take(4).Select(l => l.Split(' ').Last())); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { stack = "unreadable"; }
        SlowReport.WriteLine($"mthpsim oracle: live driver {Pid} has not answered '{command}' for {seconds} s; its kernel stack: {(stack.Length > 0 ? stack : "none (not in the kernel)")}");
    }

    public long SendRc(string command) => long.Parse(Send(command)[0], CultureInfo.InvariantCulture);

    /// <summary>Ends the driver: "exit", then closing its input (end of input ends it too).</summary>
    public void Exit()
    {
        if (_exited) return;
        _exited = true;
        try
        {
            _in.WriteLine("exit");
            _in.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        if (_process != null)
        {
            if (!_process.WaitForExit(5000)) _process.Kill();
            return;
        }
        // A forked driver is not our child: wait for the end of its output instead. do_exit() frees
        // the memory (exit_mm()) before it closes files (exit_files()), so at end of file the
        // child's mappings are gone and the next statement sees what a real program would.
        try
        {
            while (_out.ReadLine() != null) { }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }

    public void Dispose()
    {
        try { Exit(); } catch (InvalidOperationException) { }
        foreach (var s in _streams)
        {
            try { s.Dispose(); } catch (IOException) { }
        }
        _process?.Dispose();
    }
}

/// <summary>mkfifo(3), for the FIFOs a forked driver talks through.</summary>
static partial class Fifo
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int MkFifo(string path, uint mode);

    public static void Make(string path)
    {
        if (MkFifo(path, 0x180) != 0)
            throw new InvalidOperationException($"mkfifo {path}: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }
}

/// <summary>The driver stopped answering: it exited or was killed (by the OOM killer, in a memory cgroup).</summary>
public sealed class LiveDriverGoneException(string message) : InvalidOperationException(message);
