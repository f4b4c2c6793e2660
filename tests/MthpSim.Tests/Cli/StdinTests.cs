using System.Text;
using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

/// <summary>'-' reads the scenario from standard input, named &lt;stdin&gt; in every message, and may be given once.</summary>
public class StdinTests
{
    static readonly byte[] Passing = Encoding.UTF8.GetBytes("process p\np mmap a any 2M\np write a 0 4K\nexpect rc == 0\n");

    [Fact]
    public void Run_reads_standard_input()
    {
        var (code, stdout, stderr) = RunWithStdin(Passing, "run", "-");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains("PASS <stdin>: 1 of 1 expectations hold", stdout);
    }

    [Fact]
    public void Run_check_reads_standard_input() =>
        Assert.Equal(0, RunWithStdin(Passing, "run", "--check", "-").code);

    [Fact]
    public void Check_reads_standard_input()
    {
        var (code, stdout, _) = RunWithStdin(Passing, "check", "-");
        Assert.Equal(0, code);
        Assert.Equal("<stdin>: ok (4 statements)\n", stdout.Replace("\r", ""));
    }

    [Fact]
    public void Compare_reads_standard_input()
    {
        var (code, stdout, _) = RunWithStdin(Passing, "compare", "--policy", "mthp", "-");
        Assert.Equal(0, code);
        Assert.Contains("== <stdin>", stdout);
    }

    [Fact]
    public void Standard_input_and_a_file_go_together()
    {
        var (code, stdout, _) = RunWithStdin(Passing, "check", Temp("process q\n"), "-");
        Assert.Equal(0, code);
        Assert.Contains("<stdin>: ok (4 statements)", stdout);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("check")]
    [InlineData("compare")]
    public void Errors_in_standard_input_name_it_stdin(string command)
    {
        var (code, _, stderr) = RunWithStdin(Encoding.UTF8.GetBytes("process p\np wrtie a 0 4K\n"), command, "-");
        Assert.Equal(2, code);
        Assert.StartsWith("<stdin>:2:3: error: unknown statement 'wrtie'", stderr);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("check")]
    [InlineData("compare")]
    [InlineData("oracle")]
    public void Standard_input_given_twice_is_refused(string command)
    {
        var (code, stdout, stderr) = RunWithStdin(Passing, command, "-", "-");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"mthpsim {command}: '-' (standard input) is given more than once; it can be read only once\n", stderr.Replace("\r", ""));
    }

    [Theory]
    [InlineData("run")]
    [InlineData("check")]
    [InlineData("compare")]
    // Refused while reading, before anything could reach the live kernel.
    [InlineData("oracle")]
    public void Bytes_that_are_not_UTF8_are_refused_with_their_place(string command)
    {
        var (code, stdout, stderr) = RunWithStdin([.. "process p\np mmap b"u8, 0xff, .. " any 2M\n"u8], command, "-");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("<stdin>:2:9: error: invalid UTF-8 byte \\xff at byte offset 18 (a scenario file is UTF-8 text)\n", stderr.Replace("\r", ""));
    }

    [Fact]
    public void A_file_with_bytes_that_are_not_UTF8_is_refused_too()
    {
        string f = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.mthp");
        File.WriteAllBytes(f, [.. "process p\n# \u00e9 is fine in a comment\np mmap a any 2M\np write a 0 "u8, 0xe2, 0x82, .. "K\n"u8]);
        var (code, _, stderr) = Run("run", f);
        Assert.Equal(2, code);
        Assert.Equal($"{f}:4:13: error: invalid UTF-8 bytes \\xe2\\x82 at byte offset 64 (a scenario file is UTF-8 text)\n", stderr.Replace("\r", ""));
    }

    [Fact]
    public void A_path_with_a_line_break_is_shown_escaped_in_one_line()
    {
        string f = Path.Combine(Path.GetTempPath(), $"mthpsim-missing-{Guid.NewGuid():N}\n.mthp");
        var (code, _, stderr) = Run("run", f);
        Assert.Equal(2, code);
        Assert.Equal($"mthpsim: cannot read {f.Replace("\n", "\\x0a")}: no such file\n", stderr.Replace("\r", ""));
    }

    [Fact]
    public void An_unknown_policy_is_echoed_escaped_and_cut()
    {
        var (code, _, stderr) = Run("compare", Temp("expect rc == 0\n"), "--policy", "\u0001" + new string('x', 100));
        Assert.Equal(2, code);
        Assert.StartsWith($"mthpsim compare: unknown policy '\\x01{new string('x', 63)}...' (101 characters); known policies:", stderr);
    }
}
