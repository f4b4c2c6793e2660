using System.Numerics;
using MthpSim.Core.Host;

namespace MthpSim.Core.Swap;

/// <summary>The kinds of swap device a scenario may give a machine (<c>machine swapdev=</c>).</summary>
public enum SwapDeviceKind
{
    /// <summary>zram: a synchronous-I/O, non-rotational block device.</summary>
    Zram,
    /// <summary>A block device (a loop device live).</summary>
    Disk,
    /// <summary>A swap file on a filesystem.</summary>
    File,
}

/// <summary>
/// models struct swap_info_struct with the cluster allocator of mm/swapfile.c: slots in clusters of
/// a PMD's worth of pages, each cluster given to one order by its first allocation, kept on the free,
/// nonfull, frag and full lists, and a per-order "next" slot (the per-CPU cluster of one CPU). Per
/// slot the swap count (swap_map), the zeromap bit, the content written there and the folio the swap
/// cache holds for it (SWAP_HAS_CACHE), in host memory committed only where touched. A slot is in use
/// while entries refer to it or the swap cache holds it.
/// </summary>
public sealed unsafe class SwapDevice
{
    public SwapDeviceKind Kind { get; }
    /// <summary>SWP_SYNCHRONOUS_IO: I/O completes before the call returns (zram), so swap-in may skip the swap cache and pageout frees at once.</summary>
    public bool Synchronous => Kind == SwapDeviceKind.Zram;
    /// <summary>
    /// Not SWP_SOLIDSTATE: a rotational device, which turns VMA read-ahead off for all swap
    /// (nr_rotate_swap). This machine's loop devices and its ext4 disk (for a swap file) are rotational.
    /// </summary>
    public bool Rotational => Kind != SwapDeviceKind.Zram;
    /// <summary>si->max: slots on the device, the header's slot 0 included.</summary>
    public int Max { get; }
    /// <summary>si->pages: usable slots (SwapTotal).</summary>
    public int Pages => Max - 1;
    /// <summary>si->inuse_pages</summary>
    public int InUse { get; private set; }

    // swap_map count in the low bits, the zeromap bit above them.
    const int ZeroBit = 1 << 30;
    const int CountMask = ZeroBit - 1;
    readonly int* _map;
    readonly uint* _content;
    /// <summary>Per slot the PFN + 1 of the folio the swap cache holds for it (0: none).</summary>
    readonly int* _cache;
    /// <summary>Per slot the id of the memory cgroup its page was charged to (the swap_cgroup map; 0: none).</summary>
    readonly ushort* _memcg;
    /// <summary>Per slot the shadow entry reclaim left when it evicted the slot's folio (0: none): see <see cref="Shadow"/>.</summary>
    readonly long* _shadow;
    readonly LazyHostMemory _memory;

    readonly int _clusterShift, _clusterSize;
    readonly int[] _ciCount;
    readonly byte[] _ciOrder;
    readonly ClusterLists _lists;
    /// <summary>percpu_swap_cluster.offset[order] of the one CPU modelled; 0 is SWAP_ENTRY_INVALID.</summary>
    readonly int[] _next;
    readonly int _pmdOrder;

    public SwapDevice(SwapDeviceKind kind, long pages, int pmdOrder)
    {
        if (pages < 2 || pages > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(pages), "a swap device holds 2 to 2^31-1 pages");
        Kind = kind;
        Max = (int)pages;
        _pmdOrder = pmdOrder;
        _clusterShift = pmdOrder;
        _clusterSize = 1 << pmdOrder;
        long slots = Max;
        long shadowAt = (slots * 14 + 7) & ~7L;
        _memory = new LazyHostMemory(shadowAt + slots * 8);
        _map = (int*)_memory.Pointer;
        _content = (uint*)(_memory.Pointer + slots * 4);
        _cache = (int*)(_memory.Pointer + slots * 8);
        _memcg = (ushort*)(_memory.Pointer + slots * 12);
        _shadow = (long*)(_memory.Pointer + shadowAt);
        int clusters = (int)((slots + _clusterSize - 1) >> _clusterShift);
        _ciCount = new int[clusters];
        _ciOrder = new byte[clusters];
        _next = new int[pmdOrder + 1];
        _lists = new ClusterLists(clusters, pmdOrder + 1);
        // setup_clusters(): the header slot and the part of the last cluster past the end are never free
        _ciCount[0]++;
        _map[0] = 1;
        _ciCount[clusters - 1] += (int)(((long)clusters << _clusterShift) - slots);
        for (int c = 0; c < clusters; c++)
            _lists.MoveTail(c, _ciCount[c] != 0 ? ClusterLists.Nonfull(0) : ClusterLists.Free);
    }

    /// <summary>The swap count of a slot (references by PTEs and page caches).</summary>
    public int Count(int offset) => _map[offset] & CountMask;
    /// <summary>Whether the slot holds a page that was all zeroes (the zeromap: nothing was written).</summary>
    public bool IsZero(int offset) => (_map[offset] & ZeroBit) != 0;
    /// <summary>What the slot holds (0: zeroes).</summary>
    public uint Content(int offset) => _content[offset];
    /// <summary>The head PFN of the folio the swap cache holds for the slot, or -1 (swap_cache_get_folio() without the reference).</summary>
    public int CachedFolio(int offset) => _cache[offset] - 1;
    /// <summary>lookup_swap_cgroup_id(): the cgroup id recorded for the slot (0: none).</summary>
    public ushort MemcgId(int offset) => _memcg[offset];
    /// <summary>swap_cgroup_record(): the slots' page was charged to cgroup <paramref name="id"/>.</summary>
    internal void SetMemcgId(int offset, int nr, ushort id) => new Span<ushort>(_memcg + offset, nr).Fill(id);
    /// <summary>
    /// The shadow entry of a slot whose folio reclaim evicted (workingset_eviction()), 0 if none: the
    /// eviction's nonresident age + 1 from bit 17, bit 16 set for an eviction without a target
    /// cgroup (global reclaim, MADV_PAGEOUT), the target cgroup's id in the low 16 bits.
    /// </summary>
    public long Shadow(int offset) => _shadow[offset];
    /// <summary>Records a shadow entry for <paramref name="nr"/> slots of a folio leaving the swap cache by reclaim.</summary>
    internal void SetShadow(int offset, int nr, long shadow) => new Span<long>(_shadow + offset, nr).Fill(shadow);
    /// <summary>Whether the slot is allocated: entries refer to it or the swap cache holds it.</summary>
    public bool Used(int offset) => Count(offset) != 0 || _cache[offset] != 0;
    /// <summary>models vm_swap_full(): less than half the device is free.</summary>
    public bool Full => (long)(Pages - InUse) * 2 < Pages;

    /// <summary>
    /// models __try_to_reclaim_swap(TTRS_ANYWAY), given by the kernel the device belongs to: the folio
    /// the swap cache holds for a slot leaves the cache if no entry needs any of its slots. Returns
    /// the folio's pages if it did, their negation if not, 0 if no folio is cached there.
    /// </summary>
    internal Func<int, int>? ReclaimCacheOnly;

    /// <summary>Held only by the swap cache (swap_map == SWAP_HAS_CACHE).</summary>
    bool OnlyCache(int offset) => Count(offset) == 0 && _cache[offset] != 0;

    /// <summary>The swap cache's half of swap_cache_add_folio(): the slot now names the folio.</summary>
    internal void SetCache(int offset, int head)
    {
        if (!Used(offset) || _cache[offset] != 0) throw new InvalidOperationException($"swap slot {offset} cannot be cached (count {Count(offset)}, cached {CachedFolio(offset)})");
        _cache[offset] = head + 1;
        _shadow[offset] = 0;   // the folio takes the shadow's place in the cache
    }

    /// <summary>The swap cache's half of a split of a folio it holds: the slot now names the new folio.</summary>
    internal void ReplaceCache(int offset, int head)
    {
        if (_cache[offset] == 0) throw new InvalidOperationException($"swap slot {offset} is not in the swap cache");
        _cache[offset] = head + 1;
    }

    /// <summary>The swap cache's half of swap_cache_del_folio(): the slot is freed if no entry refers to it any more.</summary>
    internal void ClearCache(int offset)
    {
        _cache[offset] = 0;
        if (Count(offset) == 0) Free(offset, 1);
    }

    internal void AddCount(int offset, int diff)
    {
        int c = Count(offset) + diff;
        if (c < 0 || offset <= 0 || offset >= Max) throw new InvalidOperationException($"swap count of slot {offset} would become {c}");
        _map[offset] = (_map[offset] & ZeroBit) | c;
    }

    internal void Store(int offset, uint content, bool zero)
    {
        _content[offset] = content;
        _map[offset] = (_map[offset] & CountMask) | (zero ? ZeroBit : 0);
    }

    /// <summary>
    /// models folio_alloc_swap()'s slot allocation (swap_alloc_fast(), then cluster_alloc_swap_entry()):
    /// 2^order slots aligned to their size, each with count 1; the CPU's cluster of the order first,
    /// unless it has emptied since (measured live). Returns the first offset, or 0 when none.
    /// </summary>
    public int Alloc(int order)
    {
        int nr = 1 << order;
        if (nr > _clusterSize || InUse == Pages) return 0;   // a full device is off the avail list
        int found = 0;
        int next = _next[order];
        if (next != 0)
        {
            // A cluster that emptied since is left to the free list: live, the next allocation takes
            // the free list's head, not the CPU's cluster again.
            int ci = next >> _clusterShift;
            if (Usable(ci, order) && _ciCount[ci] != 0) found = ScanCluster(ci, next, order);
        }
        if (found == 0) found = AllocSlow(order);
        // swap_range_alloc(): the allocation that fills the device schedules swap_reclaim_work(), run here at once
        if (found != 0 && InUse == Pages && Full) ReclaimFullClusters(force: true);
        return found;
    }

    /// <summary>models cluster_alloc_swap_entry() on a solid-state device.</summary>
    int AllocSlow(int order)
    {
        // A swap file is not a block device: it cannot hold large entries.
        if (order > 0 && Kind == SwapDeviceKind.File) return 0;
        int found;
        if (order < _pmdOrder && (found = ScanList(ClusterLists.Nonfull(order), order, all: true)) != 0) return found;
        if ((found = ScanList(ClusterLists.Free, order, all: false)) != 0) return found;
        if (Full) ReclaimFullClusters(force: false);
        if (order < _pmdOrder && (found = ScanList(_lists.Frag(order), order, all: false)) != 0) return found;
        if (order > 0) return 0;
        // order 0 takes a slot from clusters of any other order
        for (int o = 1; o <= _pmdOrder; o++)
        {
            if ((found = ScanList(_lists.Frag(o), 0, all: true)) != 0) return found;
            if ((found = ScanList(ClusterLists.Nonfull(o), 0, all: true)) != 0) return found;
        }
        return 0;
    }

    /// <summary>models alloc_swap_scan_list(): isolates clusters from the head of a list and tries each.</summary>
    int ScanList(int list, int order, bool all)
    {
        int found = 0;
        do
        {
            int ci = _lists.First(list);
            if (ci < 0) break;
            _lists.Isolate(ci);
            found = ScanCluster(ci, ci << _clusterShift, order);
        } while (found == 0 && all);
        return found;
    }

    /// <summary>models cluster_is_usable(): on a list an allocation may use (or off every list), and of this order unless order 0.</summary>
    bool Usable(int ci, int order)
    {
        int list = _lists.ListOf(ci);
        if (list == ClusterLists.Full) return false;
        return order == 0 || _ciCount[ci] == 0 || _ciOrder[ci] == order;
    }

    /// <summary>
    /// models alloc_swap_scan_cluster(): the first free aligned run from <paramref name="offset"/> on,
    /// then the cluster goes to the list its count says, and the next slot becomes the order's "next".
    /// </summary>
    int ScanCluster(int ci, int offset, int order)
    {
        int nr = 1 << order;
        int start = ci << _clusterShift;
        int end = (int)Math.Min((long)start + _clusterSize, Max);
        int found = 0, next = 0;
        if (end >= nr && _ciCount[ci] + nr <= _clusterSize)
        {
            for (end -= nr; offset <= end; offset += nr)
            {
                bool needReclaim = false;
                if (_ciCount[ci] != 0 && !ScanRange(offset, nr, out needReclaim)) continue;
                if (needReclaim)
                {
                    // cluster_reclaim_range(): the cache lets go of the range, then it is looked at again
                    bool freed = ReclaimRange(offset, offset + nr);
                    if (!Usable(ci, order)) break;
                    if (_ciCount[ci] == 0) offset = start;
                    if (!freed) continue;
                }
                if (_ciCount[ci] == 0) _ciOrder[ci] = (byte)order;
                for (int i = 0; i < nr; i++) _map[offset + i] = 1;
                InUse += nr;
                _ciCount[ci] += nr;
                found = offset;
                offset += nr;
                if (_ciCount[ci] < _clusterSize && offset <= end) next = offset;
                break;
            }
        }
        Relocate(ci);
        _next[order] = next;
        return found;
    }

    /// <summary>
    /// models cluster_scan_range(): every slot of the range is free, or (with more than half the
    /// device in use) held only by the swap cache, which then has to let go (<paramref name="needReclaim"/>).
    /// </summary>
    bool ScanRange(int offset, int nr, out bool needReclaim)
    {
        needReclaim = false;
        for (int i = 0; i < nr; i++)
        {
            if (!Used(offset + i)) continue;
            if (!OnlyCache(offset + i) || !Full) return false;
            needReclaim = true;
        }
        return true;
    }

    /// <summary>models cluster_reclaim_range(): reclaims cache-only slots from the start until one cannot be; whether the range is free now.</summary>
    bool ReclaimRange(int start, int end)
    {
        for (int offset = start; offset < end;)
        {
            if (!Used(offset)) { offset++; continue; }
            if (!OnlyCache(offset)) break;
            int nr = ReclaimCacheOnly!(offset);
            if (nr <= 0) break;
            offset += nr;
        }
        for (int offset = start; offset < end; offset++) if (Used(offset)) return false;
        return true;
    }

    /// <summary>
    /// models swap_reclaim_full_clusters(): full clusters are taken off their list one by one (one, or
    /// with <paramref name="force"/> one per cluster's worth of slots in use) and their cache-only
    /// slots reclaimed; a cluster nothing was freed in goes back by its count.
    /// </summary>
    void ReclaimFullClusters(bool force)
    {
        long toScan = force ? InUse >> _clusterShift : 1;
        int ci;
        while ((ci = _lists.First(ClusterLists.Full)) >= 0)
        {
            _lists.Isolate(ci);
            toScan--;
            int offset = ci << _clusterShift, end = (int)Math.Min((long)offset + _clusterSize, Max);
            while (offset < end)
            {
                if (OnlyCache(offset))
                {
                    int nr = ReclaimCacheOnly!(offset);
                    if (nr != 0) { offset += Math.Abs(nr); continue; }
                }
                offset++;
            }
            if (_lists.ListOf(ci) == ClusterLists.None) Relocate(ci);
            if (toScan <= 0) break;
        }
    }

    /// <summary>models relocate_cluster(): after an allocation, to the free, frag or full list.</summary>
    void Relocate(int ci)
    {
        int count = _ciCount[ci];
        int list = _lists.ListOf(ci);
        if (count == 0) { if (list != ClusterLists.Free) FreeCluster(ci); }
        else if (count != _clusterSize) { if (list != _lists.Frag(_ciOrder[ci])) _lists.MoveTail(ci, _lists.Frag(_ciOrder[ci])); }
        else if (list != ClusterLists.Full) _lists.MoveTail(ci, ClusterLists.Full);
    }

    void FreeCluster(int ci)
    {
        _lists.MoveTail(ci, ClusterLists.Free);
        _ciOrder[ci] = 0;
    }

    /// <summary>
    /// models swap_entries_free(): the last reference to <paramref name="nr"/> slots (all in one cluster)
    /// is gone; the cluster becomes free or goes to its order's nonfull list.
    /// </summary>
    public void Free(int offset, int nr)
    {
        int ci = offset >> _clusterShift;
        for (int i = 0; i < nr; i++)
        {
            if (Used(offset + i)) throw new InvalidOperationException($"swap slot {offset + i} freed with count {Count(offset + i)}, cached {CachedFolio(offset + i)}");
            _map[offset + i] = 0;
            _content[offset + i] = 0;
            _memcg[offset + i] = 0;   // swap_cgroup_clear()
            _shadow[offset + i] = 0;
        }
        _ciCount[ci] -= nr;
        InUse -= nr;
        if (_ciCount[ci] == 0) FreeCluster(ci);
        else if (_lists.ListOf(ci) != ClusterLists.Nonfull(_ciOrder[ci])) _lists.MoveTail(ci, ClusterLists.Nonfull(_ciOrder[ci]));
    }

    /// <summary>Drops one reference to a slot (swap_free_nr() of one entry); frees it when nothing holds it any more.</summary>
    public void Put(int offset)
    {
        AddCount(offset, -1);
        if (!Used(offset)) Free(offset, 1);
    }

    /// <summary>Slots of [start, end) in use (<see cref="Used"/>), counted a vector at a time.</summary>
    int UsedIn(int start, int end)
    {
        var counts = new ReadOnlySpan<int>(_map + start, end - start);
        var cached = new ReadOnlySpan<int>(_cache + start, end - start);
        var mask = new Vector<int>(CountMask);
        int used = 0, i = 0;
        for (; i + Vector<int>.Count <= counts.Length; i += Vector<int>.Count)
        {
            var inUse = ~Vector.Equals((new Vector<int>(counts[i..]) & mask) | new Vector<int>(cached[i..]), Vector<int>.Zero);
            used -= Vector.Sum(inUse);   // each lane in use is -1
        }
        for (; i < counts.Length; i++) if ((counts[i] & CountMask) != 0 || cached[i] != 0) used++;
        return used;
    }

    /// <summary>Checks the device's own bookkeeping: cluster counts and lists against the slots. Returns the first problem.</summary>
    public string? Check()
    {
        long used = 0;
        for (int ci = 0; ci < _ciCount.Length; ci++)
        {
            int start = ci << _clusterShift, end = (int)Math.Min((long)start + _clusterSize, Max);
            int count = ((ci + 1L) << _clusterShift) - end > 0 ? (int)(((ci + 1L) << _clusterShift) - end) : 0;
            count += UsedIn(start, end);
            if (count != _ciCount[ci]) return $"swap cluster {ci} counts {_ciCount[ci]} slots, {count} are in use";
            int list = _lists.ListOf(ci);
            if (count == 0 && list != ClusterLists.Free && list != ClusterLists.None) return $"swap cluster {ci} is empty but not on the free list";
            if (count == _clusterSize && list != ClusterLists.Full && list != ClusterLists.None) return $"swap cluster {ci} is full but not on the full list";
            used += count;
            if (count != 0 && ShadowMisplaced(start, end) is string bad) return bad;
        }
        long expected = InUse + 1 + ((long)_ciCount.Length << _clusterShift) - Max;
        return used == expected ? null : $"swap device counts {InUse} slots in use, its clusters {used - expected + InUse}";
    }

    /// <summary>A shadow entry outside a slot still referenced whose folio left the swap cache (a free slot's was cleared by <see cref="Free"/>).</summary>
    string? ShadowMisplaced(int start, int end)
    {
        var shadows = new ReadOnlySpan<long>(_shadow + start, end - start);
        for (int i = shadows.IndexOfAnyExcept(0L); i >= 0;)
        {
            int slot = start + i;
            if (Count(slot) == 0 || _cache[slot] != 0) return $"swap slot {slot} has a shadow entry but {(Count(slot) == 0 ? "no reference" : "a folio in the swap cache")}";
            int next = shadows[(i + 1)..].IndexOfAnyExcept(0L);
            i = next < 0 ? -1 : i + 1 + next;
        }
        return null;
    }
}
