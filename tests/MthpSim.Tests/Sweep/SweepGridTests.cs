using MthpSim.Sweep.Grid;

namespace MthpSim.Tests.Sweep;

/// <summary>The grid language of <c>mthpsim sweep</c> (docs/sweep.md): what it expands to, and what it refuses.</summary>
public class SweepGridTests
{
    static string Folder(params (string Name, string Text)[] files)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mthpsim-grid-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        foreach (var (name, text) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, name))!);
            File.WriteAllText(Path.Combine(dir, name), text);
        }
        return dir;
    }

    static SweepGrid Parse(string dir, string grid) => SweepGrid.Parse("test.grid", grid, dir);

    static string Refusal(string dir, string grid) => Assert.Throws<GridException>(() => Parse(dir, grid)).Message;

    [Fact]
    public void Cells_are_the_product_of_the_axes_inputs_outermost_the_last_axis_fastest()
    {
        string dir = Folder(("s/b.mthp", "process p\n"), ("s/a.mthp", "process p\n"), ("s/c.txt", ""));
        var g = Parse(dir, """
            # two inputs by a pattern (in name order), two axes
            scenario s/*.mthp
            policy collapse = pmd-only | mthp
            sysfs khugepaged/max_ptes_none = 0 | 255 | 511   # three values
            """);
        Assert.Equal(12, g.CellCount);
        var keys = g.Cells().Select(c => c.Key).ToList();
        Assert.Equal(12, keys.Count);
        Assert.Equal("s/a.mthp policy=pmd-only khugepaged/max_ptes_none=0", keys[0]);
        Assert.Equal("s/a.mthp policy=pmd-only khugepaged/max_ptes_none=255", keys[1]);
        Assert.Equal("s/a.mthp policy=mthp khugepaged/max_ptes_none=0", keys[3]);
        Assert.Equal("s/b.mthp policy=pmd-only khugepaged/max_ptes_none=0", keys[6]);
        Assert.Equal(Enumerable.Range(0, 12), g.Cells().Select(c => c.Index));
        var last = g.Cells().Last();
        Assert.Equal("mthp", last.Policy);
        Assert.Equal([new KeyValuePair<string, string>("khugepaged/max_ptes_none", "511")], last.Sysfs);
        Assert.Equal(Path.Combine(dir, "s", "b.mthp"), last.Input.FullPath);
    }

    [Fact]
    public void A_grid_without_axes_has_one_cell_per_input_and_machine_values_are_kept_as_written()
    {
        string dir = Folder(("a.mthp", "process p\n"));
        var g = Parse(dir, "scenario a.mthp\nmachine memory = 2G | 4G\nmachine seed = 7\n");
        Assert.Equal(["a.mthp machine.memory=2G machine.seed=7", "a.mthp machine.memory=4G machine.seed=7"], g.Cells().Select(c => c.Key));
        Assert.Single(Parse(dir, "scenario a.mthp").Cells());
    }

    [Fact]
    public void Every_shipped_grid_expands_to_distinct_cells()
    {
        var expected = new Dictionary<string, int> { ["seed-thread.grid"] = 220, ["traces.grid"] = 16 };
        var grids = Directory.GetFiles(Path.Combine(MthpSim.Tests.Scenarios.RepoPaths.Root, "scenarios", "sweeps"), "*.grid");
        Assert.Equal(expected.Keys.Order(), grids.Select(Path.GetFileName).Order()!);
        foreach (var path in grids)
        {
            var g = SweepGrid.Load(path);
            Assert.Equal(expected[Path.GetFileName(path)], g.CellCount);
            Assert.Equal(g.CellCount, g.Cells().Select(c => c.Key).Distinct().Count());
        }
    }

    [Theory]
    [InlineData("policy collapse = pmd-only\n", "test.grid: no 'scenario' or 'trace' line")]
    [InlineData("scenario a.mthp\nscenarios a.mthp\n", "test.grid:2: unknown statement 'scenarios' (did you mean 'scenario'?)")]
    [InlineData("scenario a.mthp a.mthp\n", "test.grid:1: 'a.mthp' is already an input (line 1)")]
    [InlineData("scenario nope.mthp\n", "test.grid:1: 'nope.mthp': no such file")]
    [InlineData("scenario *.nope\n", "test.grid:1: '*.nope' matches no file")]
    [InlineData("scenario a.mthp\npolicy collapse = pmd-only | mthpp\n", "test.grid:2: unknown collapse policy 'mthpp' (did you mean 'mthp'?)")]
    [InlineData("scenario a.mthp\npolicy collapse = mthp | mthp\n", "test.grid:2: 'mthp' is given twice for policy collapse")]
    [InlineData("scenario a.mthp\nsysfs enabled = always | | never\n", "test.grid:2: an empty value in sysfs enabled")]
    [InlineData("scenario a.mthp\nsysfs enabled=always\n", "test.grid:2: expected 'sysfs PATH = VALUE | VALUE ...'")]
    [InlineData("scenario a.mthp\nsysfs /sys/kernel/mm/transparent_hugepage/enabled = always\n", "test.grid:2: sysfs paths are relative")]
    [InlineData("scenario a.mthp\nsysfs enabled = always\nsysfs enabled = never\n", "test.grid:3: enabled is already an axis (line 2)")]
    [InlineData("scenario a.mthp\nmachine memroy = 2G\n", "test.grid:2: unknown machine option 'memroy' (did you mean 'memory'?)")]
    [InlineData("scenario a.mthp\nmachine page = 4K | 8K\n", "test.grid:2: page must be 4K, 16K or 64K, got '8K'")]
    [InlineData("trace a.mthp\nmachine page = 4K | 64K\n", "test.grid:2: a trace replays on the machine it was recorded on")]
    public void A_grid_that_cannot_be_swept_is_refused_with_its_line(string grid, string message)
    {
        string dir = Folder(("a.mthp", "process p\n"));
        Assert.StartsWith(message, Refusal(dir, grid));
    }
}
