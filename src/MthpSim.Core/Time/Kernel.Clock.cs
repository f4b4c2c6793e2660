namespace MthpSim.Core;

// The virtual clock: nothing in the model reads wall time.
public sealed partial class Kernel
{
    /// <summary>Virtual time since the machine started, in milliseconds.</summary>
    public long NowMs { get; private set; }

    /// <summary>
    /// Advances the clock, running the background work due in that time. No background activity is
    /// modelled yet (khugepaged comes with its own issue), so this only moves the clock.
    /// </summary>
    public void Sleep(long ms)
    {
        if (ms < 0) throw new ArgumentOutOfRangeException(nameof(ms));
        NowMs += ms;
    }
}
