using MthpSim.Core.Vma;

namespace MthpSim.Core;

// Loads and stores spread over time: a recorded program's faults, a few per millisecond.
public sealed partial class Kernel
{
    /// <summary>
    /// The latest virtual time up to which <see cref="Sleep"/> would only move the clock, given the
    /// state now: no kswapd pass (free memory at or above the low watermark, no boosted watermark to
    /// restore), no kcompactd work or proactive check, no khugepaged wakeup and no memcg statistics
    /// flush before then. <see cref="NowMs"/> itself when some work is pending already.
    /// </summary>
    public long QuietThroughMs
    {
        get
        {
            if (_boostedWakesKswapd || _kcompactdMaxOrder > 0 || Buddy.FreePages < WmarkLow) return NowMs;
            long through = (NowMs / MemcgStatsFlushMs + 1) * MemcgStatsFlushMs - 1;
            if (CompactionProactiveness != 0) through = Math.Min(through, _kcompactdTimeoutAt - 1);
            if (_khugepagedWakeAt is long at) through = Math.Min(through, at - 1);
            return Math.Max(NowMs, through);
        }
    }

    /// <summary>
    /// As <see cref="Access(MmStruct, ulong, ulong, bool, out ulong)"/>, with time passing while the
    /// pages are touched: page i of [start, end) is touched <paramref name="msAfter"/>[i] ms after now
    /// (non-decreasing), as <see cref="Sleep"/> up to that time and then a one-page access would. The
    /// clock moves in the same step while nothing would run as it passes (<see cref="QuietThroughMs"/>);
    /// the access stops before the first page whose time some background work is due by, returning 0
    /// with <paramref name="stoppedAt"/> there, for the caller to sleep and go on. The clock is left
    /// at the time of the last page reached.
    /// </summary>
    public long AccessOverTime(MmStruct mm, ulong start, ulong end, bool write, long[] msAfter, out ulong stoppedAt)
    {
        ulong pageSize = (ulong)Geo.PageSize;
        stoppedAt = start;
        if (end <= start) return 0;
        start &= ~(pageSize - 1);
        int pages = (int)((end - start + pageSize - 1) >> PageShift);
        if (msAfter.Length < pages) throw new ArgumentException("a time for every page is needed", nameof(msAfter));
        using var cost = ChargeTo(mm, Cost.CostOp.Fault);
        (_timedMs, _timedPages, _timedStart, _timedBaseMs, _timedQuietThrough) = (msAfter, pages, start, NowMs, -1);
        try
        {
            TimedQuietFrom(start);
            long rc = AccessPages(mm, start, end, write, out stoppedAt);
            if (stoppedAt > start) TimedReach((Math.Min(stoppedAt, end) - 1) & ~(pageSize - 1));   // the last page reached: a run of stores passed over its time
            return rc;
        }
        finally { _timedMs = null; }
    }

    /// <summary>Of an <see cref="AccessOverTime"/> under way: the times of its pages (ms after _timedBaseMs, from _timedStart on); null otherwise.</summary>
    long[]? _timedMs;
    int _timedPages;
    ulong _timedStart;
    long _timedBaseMs;
    /// <summary>The <see cref="QuietThroughMs"/> that _timedQuietEnd was found for.</summary>
    long _timedQuietThrough;
    /// <summary>The first page of the timed access that cannot be reached quietly: its time is past _timedQuietThrough.</summary>
    ulong _timedQuietEnd;

    long TimedPageMs(ulong addr) => _timedBaseMs + _timedMs![(int)((addr - _timedStart) >> PageShift)];

    /// <summary>
    /// A timed access reaches <paramref name="addr"/>: the clock moves to its time, which is quiet
    /// (the access was bounded by _timedQuietEnd when it came here).
    /// </summary>
    void TimedReach(ulong addr) => NowMs = Math.Max(NowMs, TimedPageMs(addr));

    /// <summary>After something that may have made background work due (a fault that allocated, freed or woke a daemon): the quiet end again, from <paramref name="addr"/> on.</summary>
    void TimedQuietFrom(ulong addr)
    {
        long through = QuietThroughMs;
        if (through == _timedQuietThrough) return;
        _timedQuietThrough = through;
        int i = (int)((addr - _timedStart) >> PageShift);
        while (i < _timedPages && _timedBaseMs + _timedMs![i] <= through) i++;
        _timedQuietEnd = _timedStart + ((ulong)i << PageShift);
    }
}
