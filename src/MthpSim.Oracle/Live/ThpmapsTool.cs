using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MthpSim.Oracle.Live;

/// <summary>
/// The kernel's own tools/mm/thpmaps (a Python script that needs numpy), run on live processes to
/// check the project's thpmaps calculator. The script is GPL kernel code: it is never shipped with
/// the project nor downloaded; it is found at $MTHPSIM_THPMAPS, or in the running kernel's source
/// tree (/lib/modules/RELEASE/source or build), or under /usr/src/linux*/ (Debian's linux-source
/// packages unpack there). The interpreter is $MTHPSIM_PYTHON, else the first python3 on PATH or
/// /usr/bin/python3 that can import numpy.
/// </summary>
public sealed partial class ThpmapsTool
{
    public string Script { get; }
    public string Python { get; }

    ThpmapsTool(string script, string python) { Script = script; Python = python; }

    /// <summary>The tool, or null with the reason it cannot be run here.</summary>
    public static ThpmapsTool? Find(out string? whyNot)
    {
        whyNot = null;
        string? script = ScriptCandidates().FirstOrDefault(File.Exists);
        if (script == null)
        {
            whyNot = "the kernel's tools/mm/thpmaps was not found: set MTHPSIM_THPMAPS to its path, or unpack a kernel source tree "
                     + "(e.g. Debian's linux-source-6.12) under /usr/src/linux*/";
            return null;
        }
        string? python = PythonCandidates().FirstOrDefault(HasNumpy);
        if (python == null)
        {
            whyNot = "no python3 that can import numpy (thpmaps needs it): install python3-numpy, or set MTHPSIM_PYTHON";
            return null;
        }
        return new ThpmapsTool(script, python);
    }

    static IEnumerable<string> ScriptCandidates()
    {
        if (Environment.GetEnvironmentVariable("MTHPSIM_THPMAPS") is { Length: > 0 } env) { yield return env; yield break; }
        string release = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "";
        foreach (var d in new[] { "source", "build" }) yield return $"/lib/modules/{release}/{d}/tools/mm/thpmaps";
        if (Directory.Exists("/usr/src"))
            foreach (var d in Directory.EnumerateDirectories("/usr/src", "linux*").OrderByDescending(d => d, StringComparer.Ordinal))
                yield return Path.Combine(d, "tools/mm/thpmaps");
    }

    static IEnumerable<string> PythonCandidates()
    {
        if (Environment.GetEnvironmentVariable("MTHPSIM_PYTHON") is { Length: > 0 } env) { yield return env; yield break; }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            yield return Path.Combine(dir, "python3");
        yield return "/usr/bin/python3";
    }

    static bool HasNumpy(string python)
    {
        if (!File.Exists(python)) return false;
        try
        {
            var (code, _, _) = RunProcess(python, ["-c", "import numpy"]);
            return code == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    /// <summary>
    /// Runs the tool on one process, per VMA, with --inc-empty and a --cont block for every order
    /// from 1 to <paramref name="pmdOrder"/> (the keys the project computes). Returns each VMA's keys
    /// in kB, in the order the tool prints them; a VMA it skips has none.
    /// </summary>
    public List<(ulong Start, ulong End, Dictionary<string, long> Keys)> PerVma(int pid, int pmdOrder, long pageSizeKb)
    {
        var args = new List<string> { Script, "--pid", pid.ToString(CultureInfo.InvariantCulture), "--inc-empty" };
        for (int o = 1; o <= pmdOrder; o++) args.AddRange(["--cont", $"{pageSizeKb << o}K"]);
        var (code, stdout, stderr) = RunProcess(Python, args);
        if (code != 0) throw new InvalidOperationException($"thpmaps --pid {pid} exited {code}: {stderr.Trim()} {stdout.Trim()}");
        var result = new List<(ulong, ulong, Dictionary<string, long>)>();
        foreach (var line in stdout.Split('\n'))
        {
            if (VmaLine().Match(line) is { Success: true } v)
            {
                result.Add((ulong.Parse(v.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                            ulong.Parse(v.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture), new Dictionary<string, long>()));
            }
            else if (KeyLine().Match(line) is { Success: true } k && result.Count > 0)
            {
                result[^1].Item3[k.Groups[1].Value] = long.Parse(k.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }
        return result;
    }

    /// <summary>The tool's output for one process, as it prints it with the given options.</summary>
    public string Output(int pid, IEnumerable<string> options)
    {
        var (code, stdout, stderr) = RunProcess(Python, new[] { Script, "--pid", pid.ToString(CultureInfo.InvariantCulture) }.Concat(options));
        if (code != 0) throw new InvalidOperationException($"thpmaps --pid {pid} exited {code}: {stderr.Trim()} {stdout.Trim()}");
        return stdout;
    }

    static (int Code, string Stdout, string Stderr) RunProcess(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    /// <summary>vma_print(): "PID: START-END PROT ...", the addresses in 16 hex digits.</summary>
    [GeneratedRegex(@"^\d+: ([0-9a-f]{16})-([0-9a-f]{16}) ")]
    private static partial Regex VmaLine();

    /// <summary>stats_print(): "KEY:   VALUE kB", maybe followed by a percentage.</summary>
    [GeneratedRegex(@"^([a-z0-9-]+kB|[a-z]+-thp-pte-partial):\s+(\d+) kB")]
    private static partial Regex KeyLine();
}
