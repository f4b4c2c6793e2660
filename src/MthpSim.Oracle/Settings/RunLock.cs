namespace MthpSim.Oracle.Settings;

/// <summary>
/// THP settings are global to the machine: one live-kernel experiment at a time (an oracle run, a
/// live benchmark), whatever journal it uses. Every such run holds this lock while it changes settings.
/// </summary>
public static class RunLock
{
    public const string Path = "/run/mthpsim-oracle/lock";

    /// <summary>
    /// Waits up to a minute for another run to finish (an exclusive lock, released by the kernel if
    /// the holder dies); throws <see cref="Live.OracleUnavailableException"/> after that.
    /// </summary>
    public static FileStream Acquire()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try { return new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(100); }
            catch (IOException) { throw new Live.OracleUnavailableException("another oracle run holds " + Path); }
        }
    }
}
