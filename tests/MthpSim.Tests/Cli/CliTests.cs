using MthpSim.Tests.Scenarios;
using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

public class CliTests
{
    [Fact]
    public void Run_passes_the_example_with_exit_0()
    {
        var (code, stdout, _) = Run("run", "--check", Path.Combine(RepoPaths.Root, "scenarios/examples/fault-64k.mthp"));
        Assert.Equal(0, code);
        Assert.Contains("PASS", stdout);
        Assert.Contains("anon-thp-pte-aligned-64kB:          2176 kB", stdout);
    }

    [Fact]
    public void Run_exits_1_when_an_expectation_fails()
    {
        var (code, stdout, _) = Run("run", Temp("expect vmstat thp_fault_alloc == 1\n"));
        Assert.Equal(1, code);
        Assert.Contains("expect failed: expect vmstat thp_fault_alloc == 1", stdout);
    }

    [Fact]
    public void Run_exits_2_for_an_invalid_file_with_line_and_column()
    {
        string f = Temp("process p\np wrtie a 0 4K\n");
        var (code, _, stderr) = Run("run", f);
        Assert.Equal(2, code);
        Assert.Contains($"{f}:2:3: error: unknown statement 'wrtie'", stderr);
    }

    [Fact]
    public void Invalid_command_line_exits_2()
    {
        Assert.Equal(2, Run("frobnicate").code);
        Assert.Equal(2, Run("run").code);
        Assert.Equal(2, Run("run", "/nonexistent/file.mthp").code);
    }

    [Fact]
    public void Check_refuses_what_run_would_refuse_without_running()
    {
        Assert.Equal(0, Run("check", Temp("process p\np mmap a any 2M\np write a 0 4K\nexpect rc == 99\n")).code);
        Assert.Equal(2, Run("check", Temp("proces p\n")).code);
        // Names the model does not know are refused before anything runs, by check as by run.
        var (code, _, stderr) = Run("check", Temp("process p\nexpect vmstat thp_fault_allocs == 0\n"));
        Assert.Equal(2, code);
        Assert.Contains("unknown vmstat counter 'thp_fault_allocs'", stderr);
        Assert.Equal(2, Run("check", Temp("sysfs hugepages-3kB/enabled = always\n")).code);
    }

    [Fact]
    public void Json_lists_every_expectation_and_counter()
    {
        var (code, stdout, _) = Run("run", "--json", Path.Combine(RepoPaths.Root, "scenarios/examples/fault-64k.mthp"));
        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        var r = doc.RootElement.GetProperty("files")[0];
        Assert.Equal(4, r.GetProperty("expectations").GetArrayLength());
        Assert.Equal(34, r.GetProperty("counters").GetProperty("sysfs/hugepages-64kB/stats/anon_fault_alloc").GetInt64());
        Assert.Equal(0, r.GetProperty("counters").GetProperty("vmstat/thp_fault_alloc").GetInt64());
    }
}
