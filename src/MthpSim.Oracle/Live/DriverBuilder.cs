using System.Diagnostics;
using System.Security.Cryptography;

namespace MthpSim.Oracle.Live;

/// <summary>
/// Builds a live-kernel program from C source embedded in an assembly (the oracle's driver,
/// Driver/mthp_live_driver.c; the benchmark's mthp_bench.c), once per source version, into a cache
/// directory; gcc is needed.
/// </summary>
public static class DriverBuilder
{
    /// <summary>Path of the oracle's driver binary, building it if needed; throws <see cref="OracleUnavailableException"/> when it cannot.</summary>
    public static string Ensure() => Ensure(typeof(DriverBuilder).Assembly, "mthp_live_driver");

    /// <summary>
    /// Path of the program built from the resource <c>NAME.c</c> of <paramref name="assembly"/>,
    /// building it if needed; throws <see cref="OracleUnavailableException"/> when it cannot.
    /// </summary>
    public static string Ensure(System.Reflection.Assembly assembly, string name)
    {
        using var src = assembly.GetManifestResourceStream(name + ".c")
            ?? throw new OracleUnavailableException($"the source of {name} is not embedded in this build");
        using var ms = new MemoryStream();
        src.CopyTo(ms);
        byte[] bytes = ms.ToArray();
        string hash = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        string dir = Path.Combine(CacheRoot(), "mthpsim");
        Directory.CreateDirectory(dir);
        string bin = Path.Combine(dir, $"{name}-{hash}");
        if (File.Exists(bin)) return bin;
        string cfile = Path.Combine(dir, $"{name}-{hash}.c");
        File.WriteAllBytes(cfile, bytes);
        string tmpBin = bin + $".{Environment.ProcessId}.tmp";
        var psi = new ProcessStartInfo("gcc", ["-O2", "-pthread", "-Wall", "-Wextra", "-Werror", "-o", tmpBin, cfile])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        Process? p;
        try { p = Process.Start(psi); }
        catch (System.ComponentModel.Win32Exception) { throw new OracleUnavailableException($"gcc is needed to build {name} and was not found"); }
        string err = p!.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new OracleUnavailableException($"building {name} failed: {err.Trim()}");
        File.Move(tmpBin, bin, overwrite: true);
        return bin;
    }

    static string CacheRoot() =>
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } h ? h : Path.GetTempPath(), ".cache");
}

/// <summary>The live kernel cannot be used for this run (exit status 3, with this one-line reason).</summary>
public sealed class OracleUnavailableException(string reason) : Exception(reason);
