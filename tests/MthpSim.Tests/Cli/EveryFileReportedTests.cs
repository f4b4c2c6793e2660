using System.Text.Json;
using MthpSim.Tests.Scenarios;
using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

/// <summary>A file that cannot be read, is invalid or fails does not hide the results of the others.</summary>
public class EveryFileReportedTests
{
    static string Example => Path.Combine(RepoPaths.Root, "scenarios/examples/fault-64k.mthp");
    static string Missing() => Path.Combine(Path.GetTempPath(), $"mthpsim-missing-{Guid.NewGuid():N}.mthp");

    [Fact]
    public void Run_goes_on_after_an_unreadable_file()
    {
        string missing = Missing();
        var (code, stdout, stderr) = Run("run", missing, Example);
        Assert.Equal(2, code);
        Assert.Contains($"mthpsim: cannot read {missing}: no such file", stderr);
        Assert.Contains($"PASS {Example}: 4 of 4 expectations hold", stdout);
    }

    [Fact]
    public void Run_json_lists_every_file_in_order_whatever_became_of_it()
    {
        string missing = Missing(), invalid = Temp("process p\np wrtie a 0 4K\n"), failing = Temp("expect vmstat thp_fault_alloc == 99\n");
        var (code, stdout, _) = Run("run", "--json", missing, invalid, Example, failing);
        Assert.Equal(2, code);
        using var doc = JsonDocument.Parse(stdout);
        var files = doc.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal([missing, invalid, Example, failing], files.Select(f => f.GetProperty("file").GetString()));
        Assert.Equal([2, 2, 0, 1], files.Select(f => f.GetProperty("exitCode").GetInt32()));
        Assert.Contains("no such file", files[0].GetProperty("invalid")[0].GetProperty("message").GetString());
        Assert.True(files[2].GetProperty("passed").GetBoolean());
    }

    [Fact]
    public void Compare_goes_on_after_an_invalid_file_and_exits_2()
    {
        string invalid = Temp("process p\np wrtie a 0 4K\n");
        var (code, stdout, stderr) = Run("compare", "--policy", "pmd-only,mthp", invalid, Example);
        Assert.Equal(2, code);
        Assert.Contains($"{invalid}:2:3: error: unknown statement 'wrtie'", stderr);
        Assert.Contains($"== {Example}", stdout);
        Assert.Contains("pmd-only", stdout);
    }

    [Fact]
    public void Run_json_includes_what_each_print_wrote_with_its_line()
    {
        string f = Temp("process p\np mmap a any 2M\np write a 0 4K\nprint p smaps a\nprint vmstat thp_fault_alloc\n");
        var (code, stdout, _) = Run("run", "--json", f);
        Assert.Equal(0, code);
        var text = Run("run", f).stdout;
        using var doc = JsonDocument.Parse(stdout);
        var prints = doc.RootElement.GetProperty("files")[0].GetProperty("prints").EnumerateArray().ToList();
        Assert.Equal([4, 5], prints.Select(p => p.GetProperty("line").GetInt32()));
        // The same text the run without --json writes to standard output, in the same order.
        Assert.StartsWith(string.Concat(prints.Select(p => p.GetProperty("text").GetString())), text);
        Assert.Contains("AnonHugePages:", prints[0].GetProperty("text").GetString());
    }

    [Fact]
    public void Compare_json_keys_are_camel_case_like_run_and_bench()
    {
        var (_, stdout, _) = Run("compare", "--json", "--policy", "mthp", Example);
        using var doc = JsonDocument.Parse(stdout);
        var row = doc.RootElement.GetProperty("rows")[0];
        Assert.Equal("mthp", row.GetProperty("policy").GetString());
        Assert.True(row.TryGetProperty("ptesPerWindow", out _));
        Assert.False(row.TryGetProperty("Policy", out _));
    }
}
