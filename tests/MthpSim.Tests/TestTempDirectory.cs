using System.Runtime.CompilerServices;

namespace MthpSim.Tests;

/// <summary>
/// The test run's temporary files go to a directory of its own, removed when the run ends: tests
/// and the CLI processes they start (which inherit TMPDIR) write scenario files, traces, reports and
/// assemblies there, and a test that forgets one leaves nothing behind on the machine.
/// </summary>
static class TestTempDirectory
{
    /// <summary>The directory (under the system's temporary directory) that <see cref="Path.GetTempPath"/> gives during the run.</summary>
    public static string Path { get; private set; } = "";

    [ModuleInitializer]
    internal static void Redirect()
    {
        Path = Directory.CreateTempSubdirectory("mthpsim-tests-").FullName;
        Environment.SetEnvironmentVariable("TMPDIR", Path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(Path, recursive: true); }
            catch (IOException) { }   // a child process still writing: the rest is gone
            catch (UnauthorizedAccessException) { }
        };
    }
}
