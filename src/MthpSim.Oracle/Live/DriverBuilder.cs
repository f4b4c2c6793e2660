using System.Diagnostics;
using System.Security.Cryptography;

namespace MthpSim.Oracle.Live;

/// <summary>
/// Builds the live driver from the C source embedded in this assembly (Driver/mthp_live_driver.c),
/// once per source version, into a cache directory; gcc is needed.
/// </summary>
public static class DriverBuilder
{
    /// <summary>Path of the driver binary, building it if needed; throws <see cref="OracleUnavailableException"/> when it cannot.</summary>
    public static string Ensure()
    {
        using var src = typeof(DriverBuilder).Assembly.GetManifestResourceStream("mthp_live_driver.c")
            ?? throw new OracleUnavailableException("the live driver's source is not embedded in this build");
        using var ms = new MemoryStream();
        src.CopyTo(ms);
        byte[] bytes = ms.ToArray();
        string hash = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        string dir = Path.Combine(CacheRoot(), "mthpsim");
        Directory.CreateDirectory(dir);
        string bin = Path.Combine(dir, $"mthp_live_driver-{hash}");
        if (File.Exists(bin)) return bin;
        string cfile = Path.Combine(dir, $"mthp_live_driver-{hash}.c");
        File.WriteAllBytes(cfile, bytes);
        string tmpBin = bin + $".{Environment.ProcessId}.tmp";
        var psi = new ProcessStartInfo("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", tmpBin, cfile])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        Process? p;
        try { p = Process.Start(psi); }
        catch (System.ComponentModel.Win32Exception) { throw new OracleUnavailableException("gcc is needed to build the live driver and was not found"); }
        string err = p!.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new OracleUnavailableException($"building the live driver failed: {err.Trim()}");
        File.Move(tmpBin, bin, overwrite: true);
        return bin;
    }

    static string CacheRoot() =>
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } h ? h : Path.GetTempPath(), ".cache");
}

/// <summary>The live kernel cannot be used for this run (exit status 3, with this one-line reason).</summary>
public sealed class OracleUnavailableException(string reason) : Exception(reason);
