using MthpSim.Core.Folio;
using MthpSim.Core.Reclaim;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// mm/workingset.c for anonymous memory with the classic LRU: reclaim leaves a shadow entry in the swap
// slots of a folio it evicts; a folio read back through such a slot is activated at once when its
// refault distance fits the workingset.
public sealed partial class Kernel
{
    const int ShadowGlobalBit = 1 << 16;
    const int ShadowAgeShift = 17;

    /// <summary>
    /// The page cache of the running system outside the simulation, which the node-level refault test
    /// counts in the workingset (1/32 of memory; this machine's file LRU held 866 MB of 24 GB). It
    /// makes a folio that MADV_PAGEOUT or global reclaim evicted come back active, as it does live.
    /// </summary>
    long SystemPageCachePages => Buddy.TotalPages / 32;

    /// <summary>models workingset_age_nonresident(): the clock of the lruvec and of every one above it.</summary>
    static void WorkingsetAgeNonresident(Lruvec? vec, long nr)
    {
        for (; vec != null; vec = vec.Parent) vec.NonresidentAge += nr;
    }

    /// <summary>
    /// models workingset_eviction() for a folio in the swap cache that reclaim frees: its slots get a
    /// shadow naming the lruvec of reclaim's target (the root's with no target cgroup: global reclaim,
    /// MADV_PAGEOUT) and its clock, which then advances by the folio's pages.
    /// </summary>
    void WorkingsetEviction(int head, int offset, ScanControl? sc)
    {
        var target = sc is { Global: false } ? sc.Target : null;
        var vec = target?.Lruvec ?? RootLruvec!;
        int nr = 1 << Map.Order(head);
        long shadow = ((vec.NonresidentAge + 1) << ShadowAgeShift) | (sc is null or { Global: true } ? ShadowGlobalBit : 0L) | (uint)(target?.Id ?? 0);
        SwapInfo!.SetShadow(offset, nr, shadow);
        WorkingsetAgeNonresident(vec, nr);
    }

    /// <summary>
    /// models workingset_refault() for a new folio about to be read from the swap slots at
    /// <paramref name="offset"/>, before it goes on an LRU list: with a shadow there, the refault is counted,
    /// and the folio is activated when workingset_test_recent() finds its refault distance within the
    /// workingset of the lruvec that evicted it.
    /// </summary>
    void WorkingsetRefault(int head, int offset)
    {
        if (Lru == null) return;
        long shadow = SwapInfo!.Shadow(offset);
        if (shadow == 0) return;
        int nr = 1 << Map.Order(head);
        Stats.Count(VmEvent.WorkingsetRefaultAnon, nr);
        if (!WorkingsetTestRecent(shadow)) return;
        Map.Set(head, PageFlags.Active);
        WorkingsetAgeNonresident(LruvecOf(head), nr);
        Stats.Count(VmEvent.WorkingsetActivateAnon, nr);
    }

    /// <summary>
    /// models workingset_test_recent() for an anon folio: the pages evicted and activated under the
    /// evicting lruvec since, against its file lists and (with swap free) its active anon list, as its
    /// statistics were last flushed; the node-level test counts the system's page cache too.
    /// </summary>
    bool WorkingsetTestRecent(long shadow)
    {
        int id = (int)(shadow & 0xFFFF);
        var vec = id == 0 ? RootLruvec! : _memcgs[id - 1].Lruvec!;
        long distance = vec.NonresidentAge - ((shadow >> ShadowAgeShift) - 1);
        long workingset = vec.Flushed[(int)LruList.ActiveFile] + vec.Flushed[(int)LruList.InactiveFile];
        if (SwapInfo!.Pages - SwapInfo.InUse > 0) workingset += vec.Flushed[(int)LruList.ActiveAnon];
        if ((shadow & ShadowGlobalBit) != 0) workingset += NrFileCachePages + SystemPageCachePages;
        return distance <= workingset;
    }
}
