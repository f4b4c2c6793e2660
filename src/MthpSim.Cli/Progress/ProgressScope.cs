using Spectre.Console;

namespace MthpSim.Cli.Progress;

/// <summary>The lines of one progress display; without a display its lines do nothing.</summary>
public sealed class ProgressScope
{
    readonly ProgressContext? _context;
    readonly RateColumn? _rate;

    internal ProgressScope(ProgressContext? context, RateColumn? rate) => (_context, _rate) = (context, rate);

    internal static readonly ProgressScope Silent = new(null, null);

    /// <summary>A line counting <paramref name="unit"/> up to <paramref name="total"/>.</summary>
    public ProgressLine Add(string description, double total, string unit)
    {
        if (_context == null) return ProgressLine.Silent;
        var task = _context.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
        _rate!.SetUnit(task, unit);
        return new ProgressLine(task);
    }
}

/// <summary>One line of a progress display: how much of its total is done.</summary>
public sealed class ProgressLine
{
    readonly ProgressTask? _task;

    internal ProgressLine(ProgressTask? task) => _task = task;

    internal static readonly ProgressLine Silent = new(null);

    /// <summary>How much is done.</summary>
    public void Set(double done)
    {
        if (_task != null) _task.Value = done;
    }

    /// <summary>Done of a total that is known only now (statements of a file): a <see cref="MthpSim.Scenario.Runtime.RunOptions.StatementDone"/>.</summary>
    public void Counted(int done, int total)
    {
        if (_task == null) return;
        _task.MaxValue = Math.Max(total, 1);
        _task.Value = done;
    }

    /// <summary>What the line is doing now.</summary>
    public void Describe(string description)
    {
        if (_task != null) _task.Description = Markup.Escape(description);
    }

    /// <summary>Starts over with another description and total (the next file of a run).</summary>
    public void Restart(string description, double total)
    {
        if (_task == null) return;
        _task.Description = Markup.Escape(description);
        _task.MaxValue = Math.Max(total, 1);
        _task.Value = 0;
        _task.StartTask();
    }
}
