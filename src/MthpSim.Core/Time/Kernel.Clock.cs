namespace MthpSim.Core;

// The virtual clock: nothing in the model reads wall time.
public sealed partial class Kernel
{
    /// <summary>Virtual time since the machine started, in milliseconds.</summary>
    public long NowMs { get; private set; }

    /// <summary>
    /// Advances the clock, running the background work due in that time in time order: kswapd's pass
    /// for boosted watermarks, kcompactd's pending work and its proactive checks, khugepaged at each
    /// of its wakeups, the memcg statistics flush, then kswapd when free memory is below the low watermark.
    /// </summary>
    public void Sleep(long ms)
    {
        if (ms < 0) throw new ArgumentOutOfRangeException(nameof(ms));
        long start = NowMs, until = start + ms;
        if (ms > 0) KswapdBoostReclaim();
        if (ms > 0) RunKcompactd(until);
        RunKhugepagedUntil(until);
        if (until / MemcgStatsFlushMs != start / MemcgStatsFlushMs) FlushMemcgStats();
        NowMs = until;
        if (ms > 0) Kswapd();
    }
}
