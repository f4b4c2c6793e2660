using System.Diagnostics;

namespace MthpSim.Tests.Report;

/// <summary>
/// Debian's Chromium, headless, for the report tests: installed with apt-get where it is missing (as
/// root), started with a fresh profile and without its background networking (this machine's network
/// is closed), each run bounded in time.
/// </summary>
public static class HeadlessChromium
{
    const string Binary = "/usr/bin/chromium";

    /// <summary>Null when Chromium can be used, else why not (the test is skipped with it).</summary>
    public static string? Unavailable()
    {
        if (Environment.GetEnvironmentVariable("MTHPSIM_BROWSER") == "0") return "MTHPSIM_BROWSER=0";
        if (!OperatingSystem.IsLinux()) return "headless Chromium is used on Linux only";
        if (File.Exists(Binary)) return null;
        if (Environment.UserName != "root") return "chromium is not installed, and installing it needs root";
        if (!File.Exists("/usr/bin/apt-get")) return "chromium is not installed, and there is no apt-get to install it";
        var (code, output) = Run("bash", ["-c", "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium"], TimeSpan.FromMinutes(5));
        return code == 0 && File.Exists(Binary) ? null : $"apt-get could not install chromium (exit {code}): {string.Join('\n', output.Split('\n').TakeLast(5))}";
    }

    /// <summary>The page's DOM once its scripts ran (within 20 s of virtual time).</summary>
    public static string DumpDom(string html) => Chromium(["--dump-dom", new Uri(html).AbsoluteUri]);

    /// <summary>Writes a screenshot of the page's top <paramref name="height"/> pixels.</summary>
    public static void Screenshot(string html, string png, int height) =>
        Chromium([$"--screenshot={png}", "--hide-scrollbars", $"--window-size=1400,{height}", new Uri(html).AbsoluteUri]);

    static string Chromium(string[] args)
    {
        string profile = Directory.CreateTempSubdirectory("mthpsim-chromium-").FullName;
        try
        {
            var (code, output) = Run(Binary, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", "--virtual-time-budget=20000", .. args], TimeSpan.FromMinutes(2), stdoutOnly: true);
            Assert.True(code == 0, $"chromium exited with {code}");
            return output;
        }
        finally { Directory.Delete(profile, recursive: true); }
    }

    static (int Code, string Output) Run(string file, string[] args, TimeSpan limit, bool stdoutOnly = false)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(limit)) { p.Kill(entireProcessTree: true); Assert.Fail($"{file} took over {limit.TotalSeconds} s"); }
        return (p.ExitCode, stdoutOnly ? stdout : stdout + stderr.Result);
    }
}
