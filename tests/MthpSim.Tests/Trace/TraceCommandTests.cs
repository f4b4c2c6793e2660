using MthpSim.Tests.Cli;
using MthpSim.Tests.Scenarios;
using MthpSim.Trace.Format;
using Xunit;

namespace MthpSim.Tests.Trace;

/// <summary>record/replay/trace on the command line: the shipped traces against the live kernel's results, and bad input.</summary>
public class TraceCommandTests
{
    static string Traces => Path.Combine(RepoPaths.Root, "traces");

    public static TheoryData<string> Cells()
    {
        var d = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Traces).Order(StringComparer.Ordinal))
            foreach (var truth in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
                d.Add($"{Path.GetFileName(dir)}/{Path.GetFileName(truth)}");
        return d;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void A_shipped_trace_replays_to_what_the_live_kernel_did(string cell)
    {
        string dir = Path.Combine(Traces, cell.Split('/')[0]);
        var (code, stdout, stderr) = CliRunner.Run("replay", Path.Combine(dir, "trace.mtrace"), "--compare-truth", Path.Combine(Traces, cell));
        Assert.True(stderr.Length == 0, stderr);
        var rows = stdout.Split('\n').Where(l => l.TrimEnd().EndsWith('%') && !l.Contains("within")).ToList();
        Assert.NotEmpty(rows);
        Assert.DoesNotContain("no live process", stdout);
        Assert.DoesNotContain("no process in the replay", stdout);
        Assert.Contains("every record replayed", stdout);
        Assert.True(code == 0, stdout);   // every figure within 1 %
    }

    [Fact]
    public void A_replay_is_the_same_every_time()
    {
        string trace = Path.Combine(Traces, "xz", "trace.mtrace");
        var first = CliRunner.Run("replay", trace, "--json", "--set", "hugepages-64kB/enabled=always");
        var second = CliRunner.Run("replay", trace, "--json", "--set", "hugepages-64kB/enabled=always");
        Assert.Equal(0, first.code);
        Assert.Equal(first.stdout, second.stdout);
        Assert.Contains("\"64K\"", first.stdout);
    }

    [Fact]
    public void A_truncated_trace_is_refused_with_the_byte_offset()
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(Traces, "sqlite3", "trace.mtrace"));
        string cut = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.mtrace");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var (code, _, stderr) = CliRunner.Run("replay", cut);
        Assert.Equal(2, code);
        Assert.Matches(@"truncated.*\(at byte \d+\)", stderr);
        (code, _, stderr) = CliRunner.Run("trace", "dump", cut);
        Assert.Equal(2, code);
        File.Delete(cut);
    }

    [Fact]
    public void A_trace_of_another_architecture_is_refused()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.mtrace");
        using (var w = TraceWriter.Create(path, new TraceHeader { ["arch"] = "riscv64", ["page"] = "4096" })) w.Complete();
        var (code, _, stderr) = CliRunner.Run("replay", path);
        Assert.Equal(2, code);
        Assert.Contains("riscv64", stderr);
        File.Delete(path);
    }

    [Fact]
    public void Replay_refuses_a_setting_the_kernel_does_not_have_and_a_missing_file()
    {
        string trace = Path.Combine(Traces, "sqlite3", "trace.mtrace");
        var (code, _, stderr) = CliRunner.Run("replay", trace, "--set", "hugepages-3kB/enabled=always");
        Assert.Equal(2, code);
        Assert.Contains("no setting 'hugepages-3kB/enabled'", stderr);
        (code, _, stderr) = CliRunner.Run("replay", "/nonexistent.mtrace");
        Assert.Equal(2, code);
        Assert.Contains("no such file", stderr);
    }

    [Fact]
    public void Record_refuses_a_command_that_does_not_exist()
    {
        var (code, _, stderr) = CliRunner.Run("record", "-o", Path.GetTempPath(), "--", "/nonexistent/program");
        Assert.Equal(2, code);
        Assert.True(stderr.Contains("command not found") || stderr.Contains("needs root") || stderr.Contains("perf is not installed"), stderr);
    }

    [Fact]
    public void Trace_dump_prints_the_header_and_one_line_per_record()
    {
        var (code, stdout, _) = CliRunner.Run("trace", "dump", Path.Combine(Traces, "sqlite3", "trace.mtrace"), "--limit", "3");
        Assert.Equal(0, code);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Contains("# arch=x86_64", lines);
        Assert.Equal(3, lines.Count(l => !l.StartsWith('#')));
        Assert.Contains(" EXEC ", lines.First(l => !l.StartsWith('#')));
    }
}
