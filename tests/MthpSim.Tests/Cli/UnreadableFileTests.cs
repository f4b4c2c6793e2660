using MthpSim.Cli.Commands;
using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

/// <summary>A file that cannot be read is refused with one line saying why (exit 2), by every command that reads scenarios.</summary>
public class UnreadableFileTests
{
    static void AssertRefused(string command, string path, string reason)
    {
        var (code, stdout, stderr) = Run(command, path);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"mthpsim: cannot read {path}: {reason}\n", stderr.Replace("\r", ""));
    }

    public static TheoryData<string> Commands() => new() { "run", "check", "compare", "oracle" };

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_directory_is_refused(string command) =>
        AssertRefused(command, Path.GetTempPath().TrimEnd('/'), "is a directory");

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_too_long_path_is_refused(string command) =>
        AssertRefused(command, Path.Combine(Path.GetTempPath(), new string('a', 300) + ".mthp"), "path too long");

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_missing_file_is_refused(string command) =>
        AssertRefused(command, Path.Combine(Path.GetTempPath(), $"mthpsim-missing-{Guid.NewGuid():N}.mthp"), "no such file");

    [Fact]
    public void A_directory_given_as_the_oracle_replay_file_is_refused()
    {
        string dir = Path.GetTempPath().TrimEnd('/');
        var (code, _, stderr) = Run("oracle", "--replay", dir, Path.Combine(MthpSim.Tests.Scenarios.RepoPaths.Root, "scenarios/examples/fault-64k.mthp"));
        Assert.Equal(2, code);
        Assert.Equal($"mthpsim: cannot read {dir}: is a directory\n", stderr.Replace("\r", ""));
    }

    [Fact]
    public void A_replay_file_that_is_not_json_is_refused_in_one_line()
    {
        string replay = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.json");
        File.WriteAllText(replay, "not json\n");
        var (code, _, stderr) = Run("oracle", "--replay", replay, Path.Combine(MthpSim.Tests.Scenarios.RepoPaths.Root, "scenarios/examples/fault-64k.mthp"));
        Assert.Equal(2, code);
        Assert.StartsWith($"mthpsim: cannot read {replay}: not a recorded oracle run (", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Permission_denied_is_named_as_such() =>
        Assert.Equal("permission denied", InputFile.Reason(new UnauthorizedAccessException("Access to the path is denied.")));

    [UnreadableFileFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void An_unreadable_file_is_refused()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.mthp");
        File.WriteAllText(path, "process p\n");
        File.SetUnixFileMode(path, UnixFileMode.None);
        try
        {
            foreach (var command in new[] { "run", "check", "compare", "oracle" })
                AssertRefused(command, path, "permission denied");
        }
        finally { File.Delete(path); }
    }

}

/// <summary>Skipped where permissions do not stop reading (as root).</summary>
public sealed class UnreadableFileFactAttribute : FactAttribute
{
    public UnreadableFileFactAttribute()
    {
        if (OperatingSystem.IsWindows()) { Skip = "Unix file modes only"; return; }
        string path = Path.Combine(Path.GetTempPath(), $"mthpsim-probe-{Guid.NewGuid():N}");
        File.WriteAllText(path, "");
        try
        {
            File.SetUnixFileMode(path, UnixFileMode.None);
            using var _ = File.OpenRead(path);
            Skip = "this user can read a file with mode 000 (root)";
        }
        catch (UnauthorizedAccessException) { }
        finally { File.Delete(path); }
    }
}
