using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace MthpSim.Cli.Progress;

/// <summary>How fast a progress line advances, in its own unit ("1,234 statements/s").</summary>
sealed class RateColumn : ProgressColumn
{
    readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> _units = new();

    /// <summary>The unit of this line's rate.</summary>
    public void SetUnit(ProgressTask task, string unit) => _units[task.Id] = unit;

    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
    {
        string unit = _units.GetValueOrDefault(task.Id, "");
        return task.Speed is double speed
            ? new Text(string.Create(CultureInfo.InvariantCulture, $"{speed:N0} {unit}/s"))
            : new Text($"- {unit}/s");
    }
}

/// <summary>Done of total ("3/10").</summary>
sealed class CountColumn : ProgressColumn
{
    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
        new Text(string.Create(CultureInfo.InvariantCulture, $"{task.Value:N0}/{task.MaxValue:N0}"));
}
