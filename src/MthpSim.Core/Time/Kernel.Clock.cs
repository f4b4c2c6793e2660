namespace MthpSim.Core;

// The virtual clock: nothing in the model reads wall time.
public sealed partial class Kernel
{
    /// <summary>Virtual time since the machine started, in milliseconds.</summary>
    public long NowMs { get; private set; }

    /// <summary>
    /// Advances the clock, running the background work due in that time: kswapd when free memory
    /// is below the low watermark. (khugepaged comes with its own issue.)
    /// </summary>
    public void Sleep(long ms)
    {
        if (ms < 0) throw new ArgumentOutOfRangeException(nameof(ms));
        NowMs += ms;
        if (ms > 0) Kswapd();
    }
}
