using MthpSim.Core.Khugepaged;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/khugepaged.c: the khugepaged daemon on the virtual clock.
public sealed partial class Kernel
{
    /// <summary>khugepaged_scan.mm_head: registered mms, in registration order.</summary>
    readonly List<MmStruct> _khugepagedMms = new();
    /// <summary>khugepaged_scan.mm_slot and .address: where the scan goes on.</summary>
    MmStruct? _scanMm;
    ulong _scanAddress;
    /// <summary>When khugepaged runs next (virtual ms); null while it waits for work.</summary>
    long? _khugepagedWakeAt;
    /// <summary>
    /// A round asleep in khugepaged_alloc_sleep() after its first failed huge page allocation: the
    /// progress and passes through the list head it goes on with when it wakes. Null between rounds.
    /// </summary>
    (uint Progress, int PassThroughHead)? _khugepagedAllocSleep;

    /// <summary>Registered mms, in scan order.</summary>
    public IReadOnlyList<MmStruct> KhugepagedMms => _khugepagedMms;

    /// <summary>models khugepaged_has_work(): something registered and PMD collapse possible.</summary>
    bool KhugepagedHasWork => _khugepagedMms.Count > 0 && _collapsePolicy.KhugepagedEnabled(this);

    /// <summary>Whether mms outside the simulation are registered too (see <see cref="KhugepagedBusyElsewhere"/>).</summary>
    bool _khugepagedHasOutsideMms;

    /// <summary>
    /// The state a recorded program found khugepaged in on a live machine: other processes' mms are
    /// registered, so registering one does not wake it (the list is not empty), and it has just gone
    /// to sleep for scan_sleep_millisecs. The outside mms take no simulated scanning.
    /// </summary>
    public void KhugepagedBusyElsewhere()
    {
        _khugepagedHasOutsideMms = true;
        if (_collapsePolicy.KhugepagedEnabled(this)) _khugepagedWakeAt = NowMs + Math.Max(1, Thp.ScanSleepMillisecs);
    }

    /// <summary>models __khugepaged_enter(): register the mm at the tail; an idle khugepaged wakes at once.</summary>
    internal void KhugepagedEnter(MmStruct mm)
    {
        if (mm.KhugepagedRegistered && _khugepagedMms.Contains(mm)) return;
        mm.KhugepagedRegistered = true;
        bool wake = _khugepagedMms.Count == 0 && !_khugepagedHasOutsideMms;
        _khugepagedMms.Add(mm);
        if (wake && _collapsePolicy.KhugepagedEnabled(this)) _khugepagedWakeAt = NowMs;
    }

    /// <summary>models khugepaged_exit(): an mm being scanned stays until the scan sees it exit.</summary>
    void KhugepagedExit(MmStruct mm)
    {
        if (mm != _scanMm) _khugepagedMms.Remove(mm);
    }

    /// <summary>
    /// Whether start_stop_khugepaged() has stopped khugepaged's thread (no collapse possible). The
    /// default settings enable the PMD size, so hugepage_init() started it at boot.
    /// </summary>
    bool _khugepagedThreadStopped;

    /// <summary>
    /// Settings that wake khugepaged: writing the sleep times (the sleep expires at once), and a
    /// write to an `enabled` or `shmem_enabled` file that starts the thread (start_stop_khugepaged();
    /// a new thread scans at once). Returns whether the thread was started.
    /// </summary>
    internal bool KhugepagedSettingsChanged(bool sleepTimes)
    {
        // A stopped thread ends its round (kthread_should_stop()); a new one starts afresh.
        if (!_collapsePolicy.KhugepagedEnabled(this))
        {
            _khugepagedWakeAt = null;
            _khugepagedAllocSleep = null;
            _khugepagedThreadStopped = true;
            return false;
        }
        bool started = _khugepagedThreadStopped;
        _khugepagedThreadStopped = false;
        if (sleepTimes || started || _khugepagedWakeAt == null) _khugepagedWakeAt = NowMs;
        return started;
    }

    /// <summary>Runs khugepaged whenever it is due up to <paramref name="until"/> (called as time passes).</summary>
    void RunKhugepagedUntil(long until)
    {
        while (_khugepagedWakeAt is long at && at <= until)
        {
            NowMs = Math.Max(NowMs, at);
            double before = CollapseCost.CpuNs(CollapseMetrics);
            KhugepagedDoScan();
            _khugepagedBusyNs += CollapseCost.CpuNs(CollapseMetrics) - before;
            ScheduleNextWake();
        }
    }

    /// <summary>
    /// models khugepaged_wait_work() and khugepaged_alloc_sleep(): a round asleep after a failed
    /// allocation goes on alloc_sleep_millisecs later; between rounds, sleep scan_sleep_millisecs while
    /// there is work (at least 1 ms of virtual time, so a zero sleep cannot stop the clock), and until
    /// woken when there is none. A wake-up (a sleep time written) ends either sleep at once.
    /// </summary>
    void ScheduleNextWake()
    {
        // The round's CPU time (CollapseCost) passes before khugepaged goes to sleep, whole ms at a time.
        long busyMs = (long)(_khugepagedBusyNs / 1e6);
        _khugepagedBusyNs -= busyMs * 1e6;
        if (_khugepagedAllocSleep != null) { _khugepagedWakeAt = NowMs + busyMs + Math.Max(1, Thp.AllocSleepMillisecs); return; }
        if (!KhugepagedHasWork && !(_khugepagedHasOutsideMms && _collapsePolicy.KhugepagedEnabled(this))) { _khugepagedWakeAt = null; return; }
        _khugepagedWakeAt = NowMs + busyMs + Math.Max(1, Thp.ScanSleepMillisecs);
    }

    /// <summary>khugepaged's CPU time not yet turned into a delay of its next wake-up (below 1 ms).</summary>
    double _khugepagedBusyNs;

    /// <summary>`khugepaged scan N`: N rounds now, as if khugepaged had woken N times.</summary>
    public void KhugepagedScanRounds(long rounds)
    {
        for (long i = 0; i < rounds; i++)
        {
            if (!KhugepagedHasWork) break;
            KhugepagedDoScan();
            ScheduleNextWake();
        }
    }

    /// <summary>`khugepaged full-scans N`: rounds until full_scans grew by N; -EAGAIN after 10000 rounds.</summary>
    public long KhugepagedFullScansRounds(long n)
    {
        long target = KhugepagedFullScans + n;
        for (int round = 0; round < 10000; round++)
        {
            if (KhugepagedFullScans >= target) return 0;
            if (!KhugepagedHasWork) return -Errno.EAGAIN;
            KhugepagedDoScan();
            ScheduleNextWake();
        }
        return KhugepagedFullScans >= target ? 0 : -Errno.EAGAIN;
    }

    /// <summary>
    /// models khugepaged_do_scan(): scan mm slots until pages_to_scan progress is made or the list
    /// head has been passed twice. The first failed huge page allocation puts the round to sleep
    /// (khugepaged_alloc_sleep(): <see cref="_khugepagedAllocSleep"/>, resumed by the next call); a
    /// second one in the same round gives the round up.
    /// </summary>
    void KhugepagedDoScan()
    {
        // pages_to_scan is read once per round; a resumed round keeps its budget.
        if (_khugepagedAllocSleep == null) LruAddDrain();   // lru_add_drain_all(), once a wake-up
        uint pages = _khugepagedAllocSleep != null ? _khugepagedRoundPages : _khugepagedRoundPages = Thp.PagesToScan;
        var (progress, passThroughHead) = _khugepagedAllocSleep ?? (0u, 0);
        bool wait = _khugepagedAllocSleep == null;
        _khugepagedAllocSleep = null;
        while (true)
        {
            if (_scanMm == null) passThroughHead++;
            var result = ScanResult.Fail;
            if (KhugepagedHasWork && passThroughHead < 2) progress += KhugepagedScanMmSlot(pages - progress, out result);
            else progress = pages;
            if (progress >= pages) return;
            if (result == ScanResult.AllocHugePageFail)
            {
                if (!wait) return;
                _khugepagedAllocSleep = (progress, passThroughHead);
                return;
            }
        }
    }

    /// <summary>The pages_to_scan a round read when it started.</summary>
    uint _khugepagedRoundPages;

    /// <summary>
    /// models khugepaged_scan_mm_slot(): scans the current mm from the cursor, PMD range by PMD
    /// range, in the VMAs khugepaged may collapse; progress is 1 per mm, 1 per VMA skipped and
    /// HPAGE_PMD_NR per range. A collapse attempt, or any file range (scanned without mmap_lock), ends the call; an mm
    /// scanned to its end passes the cursor on, and passing the last mm counts a full scan.
    /// </summary>
    uint KhugepagedScanMmSlot(uint pages, out ScanResult result)
    {
        result = ScanResult.Fail;
        if (_scanMm == null)
        {
            _scanMm = _khugepagedMms[0];
            _scanAddress = 0;
        }
        MmStruct mm = _scanMm;
        using var cost = ChargeTo(mm, Cost.CostOp.Collapse);
        uint progress = 1;
        bool finished = true;   // "!vma": every VMA looked at
        ulong pmdSize = (ulong)Geo.PmdSize;
        if (!mm.Exited && !mm.ThpDisabled)
        {
            // models the VMA iterator at khugepaged_scan.address: collapsing never adds, removes or resizes a VMA
            for (var vma = mm.Vmas.FirstEndingAfter(_scanAddress); vma != null; vma = mm.Vmas.Next(vma))
            {
                if (KhugepagedOrders(vma) == 0) { progress++; continue; }
                ulong hstart = (vma.Start + pmdSize - 1) & ~(pmdSize - 1), hend = vma.End & ~(pmdSize - 1);
                if (_scanAddress > hend) { progress++; continue; }
                if (_scanAddress < hstart) _scanAddress = hstart;
                bool stop = false;
                while (_scanAddress < hend)
                {
                    var cc = new CollapseControl(IsKhugepaged: true);
                    bool mmapLocked = false;   // a file range is scanned without mmap_lock
                    if (vma.File != null)
                    {
                        result = HpageCollapseScanFile(mm, _scanAddress, vma.File, LinearPageIndex(vma, _scanAddress), cc);
                        // the folio is in the page cache already: only this mm's page table goes (no PMD is installed)
                        if (result == ScanResult.PteMappedHugepage) result = CollapsePteMappedThp(mm, _scanAddress, installPmd: false);
                        if (result == ScanResult.PmdMapped) result = ScanResult.Succeed;
                    }
                    else result = HpageCollapseScanPmd(vma, _scanAddress, cc, out mmapLocked);
                    if (result == ScanResult.Succeed) KhugepagedPagesCollapsed++;
                    _scanAddress += pmdSize;
                    progress += (uint)Geo.PtrsPerPte;
                    if (!mmapLocked || progress >= pages) { stop = true; break; }
                }
                if (stop) { finished = false; break; }
            }
        }
        if (mm.Exited || finished) AdvanceScanSlot(mm);
        return progress;
    }

    /// <summary>The end of khugepaged_scan_mm_slot(): next mm, or past the last one (full_scans++); exited mms leave the list.</summary>
    void AdvanceScanSlot(MmStruct mm)
    {
        int i = _khugepagedMms.IndexOf(mm);
        if (i + 1 < _khugepagedMms.Count)
        {
            _scanMm = _khugepagedMms[i + 1];
            _scanAddress = 0;
        }
        else
        {
            _scanMm = null;
            KhugepagedFullScans++;
            long anonPages = 0;
            foreach (var p in _mms) anonPages += p.Rss[(int)RssMember.AnonPages];
            CollapseMetrics.SampleFullScan(KhugepagedFullScans, NowMs, anonPages * (Geo.PageSize >> 10));
        }
        if (mm.Exited) _khugepagedMms.Remove(mm);   // collect_mm_slot()
    }
}
