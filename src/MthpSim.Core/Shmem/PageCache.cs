namespace MthpSim.Core.Shmem;

/// <summary>
/// A file's page cache (mapping->i_pages): file page index to the head PFN of the folio holding it, or
/// to the swap entry a shmem folio left when it was swapped out (a value entry). Like the xarray's
/// multi-index entries, every index a folio or a large swap entry covers holds it, so a lookup is one
/// array read. Storage is one array per PMD-sized block of indexes, made on first use and dropped when
/// empty: 4 bytes per cached page, no object per page.
/// </summary>
public sealed class PageCache
{
    readonly int _chunkShift;
    readonly int _chunkMask;
    /// <summary>One PMD-sized block of indexes: its slots (head PFN + 1; 0 = empty; negative: a swap entry), the order of the entry holding each (+ 1; 0 = empty) and how many are used.</summary>
    sealed class Chunk(int size)
    {
        public readonly int[] Slots = new int[size];
        public readonly byte[] Orders = new byte[size];
        public int Used;
    }

    /// <summary>Chunk number to its chunk (updated in place: one lookup per store).</summary>
    readonly Dictionary<long, Chunk> _chunks = new();
    /// <summary>The chunk numbers in order, so that a search starts at the chunk it needs.</summary>
    readonly SortedSet<long> _keys = new();

    /// <summary>The xarray's nodes, for their memcg charge.</summary>
    public XaNodes Nodes { get; } = new();

    public PageCache(int pmdOrder)
    {
        _chunkShift = pmdOrder;
        _chunkMask = (1 << pmdOrder) - 1;
    }

    /// <summary>Pages cached (every index of every folio: mapping->nrpages).</summary>
    public long Pages { get; private set; }
    /// <summary>Indexes that hold swap entries (shmem_inode_info.swapped).</summary>
    public long SwappedPages { get; private set; }

    // A swap entry's slot value: -(1 + (the page's own swap offset << OrderBits | the entry's order)).
    const int OrderBits = 5;
    /// <summary>Swap offsets a page-cache value entry can hold (the model packs offset and order in 31 bits).</summary>
    public const int MaxSwapOffset = 1 << (31 - OrderBits);

    // The chunk used last: page-by-page lookups and stores mostly stay in one chunk.
    long _lastKey = -1;
    Chunk? _lastChunk;

    /// <summary>The chunk of number <paramref name="key"/>, or null.</summary>
    Chunk? ChunkAt(long key)
    {
        if (key != _lastKey)
        {
            if (!_chunks.TryGetValue(key, out var c)) return null;
            (_lastKey, _lastChunk) = (key, c);
        }
        return _lastChunk;
    }

    int Raw(long index) => ChunkAt(index >> _chunkShift) is { } c ? c.Slots[(int)(index & _chunkMask)] : 0;

    /// <summary>models filemap_get_entry() for a folio: the head PFN of the folio holding index, or -1 (a hole or a swap entry).</summary>
    public int Lookup(long index) => HeadOf(Raw(index));

    /// <summary>models filemap_get_entry(): the slot's value at index (decode with <see cref="HeadOf"/>; negative: a swap entry).</summary>
    public int Entry(long index) => Raw(index);

    /// <summary>The head PFN a slot's value names, or -1 (a hole or a swap entry).</summary>
    public static int HeadOf(int value) => Math.Max(value, 0) - 1;

    /// <summary>
    /// The slots' values from <paramref name="index"/> on, at most <paramref name="max"/> and not past
    /// the block's end (<paramref name="n"/>: how many indexes the answer covers); empty where the whole
    /// block is a hole. Decode them with <see cref="HeadOf"/> and <see cref="SwapOffsetOf"/>.
    /// </summary>
    public ReadOnlySpan<int> Run(long index, int max, out int n)
    {
        n = (int)Math.Min(max, _chunkMask + 1 - (index & _chunkMask));
        return ChunkAt(index >> _chunkShift) is { } c ? c.Slots.AsSpan((int)(index & _chunkMask), n) : default;
    }

    /// <summary>How many indexes from <paramref name="index"/> on (at most <paramref name="max"/>) are holes: neither a folio nor a swap entry.</summary>
    public int HoleLength(long index, int max)
    {
        int n = 0;
        while (n < max)
        {
            var slots = Run(index + n, max - n, out int span);
            int filled = slots.IsEmpty ? -1 : slots.IndexOfAnyExcept(0);
            if (filled >= 0) return n + filled;
            n += span;
        }
        return n;
    }

    /// <summary>The slot of the page a slot's value holds a swap entry for, or -1 (not a swap entry).</summary>
    public static int SwapOffsetOf(int value) => Swap(value, out int offset, out _) ? offset : -1;

    /// <summary>
    /// models filemap_get_entry() returning a value entry: whether index holds a swap entry, the
    /// slot of that page (<paramref name="offset"/>) and the order of the (multi-index) entry.
    /// </summary>
    public bool IsSwap(long index, out int offset, out int order)
    {
        return Swap(Raw(index), out offset, out order);
    }

    /// <summary>Whether a slot's value is a swap entry; if so, its page's slot and the entry's order.</summary>
    static bool Swap(int value, out int offset, out int order)
    {
        offset = order = 0;
        if (value >= 0) return false;
        int packed = -value - 1;
        offset = packed >> OrderBits;
        order = packed & ((1 << OrderBits) - 1);
        return true;
    }

    /// <summary>Stores a folio of <paramref name="nr"/> pages at its (naturally aligned) first index; it may replace only the folio it was split from.</summary>
    public void Insert(long index, int head, int nr) => Fill(index, nr, head + 1, 0, overSwap: false, System.Numerics.BitOperations.Log2((uint)nr));

    /// <summary>Stores <paramref name="nr"/> order-0 folios at consecutive frames from <paramref name="pfn"/> at consecutive indexes from <paramref name="index"/>.</summary>
    public void InsertSmallRun(long index, int pfn, int nr) => Fill(index, nr, pfn + 1, 1, overSwap: false, 0);

    /// <summary>
    /// Stores a swap entry of 2^<paramref name="order"/> pages at its aligned first index, page i
    /// being slot <paramref name="offset"/> + i (shmem_delete_from_page_cache() with a value entry,
    /// or shmem_split_large_entry() rewriting one as smaller entries).
    /// </summary>
    public void InsertSwap(long index, int offset, int order)
    {
        if (offset + (1 << order) > MaxSwapOffset) throw new NotSupportedException($"swap offsets past {MaxSwapOffset} in a shmem page cache are not modelled");
        Fill(index, 1 << order, -(1 + (offset << OrderBits | order)), -(1 << OrderBits), overSwap: true, order);   // page i: offset + i
    }

    /// <summary>Forgets <paramref name="nr"/> indexes from <paramref name="index"/>, folios or swap entries.</summary>
    public void Remove(long index, int nr) => Fill(index, nr, 0, 0, overSwap: true, -1);

    /// <summary>Stores first + i * step at the i-th of nr indexes from index, as entries of <paramref name="order"/> (-1: none).</summary>
    void Fill(long index, int nr, int first, int step, bool overSwap, int order)
    {
        int done = 0;
        while (nr > 0)
        {
            long key = index >> _chunkShift;
            int at = (int)(index & _chunkMask);
            int n = Math.Min(nr, _chunkMask + 1 - at);
            var c = ChunkAt(key);
            if (c == null)
            {
                if (first == 0) { index += n; nr -= n; done += n; continue; }
                c = new Chunk(_chunkMask + 1);
                _chunks.Add(key, c);
                _keys.Add(key);
                (_lastKey, _lastChunk) = (key, c);
            }
            var slots = c.Slots.AsSpan(at, n);
            if (first > 0 && step == 1 && !slots.ContainsAnyExcept(0))
            {
                // order-0 folios into holes (a write's new pages): each slot the next head
                for (int i = 0; i < n; i++) slots[i] = first + done + i;
                c.Orders.AsSpan(at, n).Fill(1);
                Nodes.Change(index, n, -1, 0);
                c.Used += n;
                Pages += n;
                (index, nr, done) = (index + n, nr - n, done + n);
                continue;
            }
            // the xarray's nodes see the indexes a run of one old order at a time (a store is of one order)
            byte newOrderByte = (byte)(first != 0 ? order + 1 : 0);
            for (int i = at, run = at; i <= at + n; i++)
                if (i == at + n || c.Orders[i] != c.Orders[run])
                {
                    Nodes.Change((key << _chunkShift) + run, i - run, c.Orders[run] - 1, newOrderByte - 1);
                    run = i;
                }
            for (int i = at; i < at + n; i++)
            {
                int was = c.Slots[i], value = first + step * (done + i - at);
                if (was < 0 && !overSwap) throw new InvalidOperationException($"page cache index {(key << _chunkShift) + i} holds a swap entry; a folio cannot be stored over it");
                c.Slots[i] = value;
                c.Orders[i] = newOrderByte;
                c.Used += (value != 0 ? 1 : 0) - (was != 0 ? 1 : 0);
                Pages += (value > 0 ? 1 : 0) - (was > 0 ? 1 : 0);
                SwappedPages += (value < 0 ? 1 : 0) - (was < 0 ? 1 : 0);
            }
            if (c.Used == 0)
            {
                _chunks.Remove(key);
                _keys.Remove(key);
                if (key == _lastKey) (_lastKey, _lastChunk) = (-1, null);
            }
            index += n;
            nr -= n;
            done += n;
        }
    }

    /// <summary>Settles the xarray's nodes after an operation (<see cref="XaNodes.Settle"/>).</summary>
    internal void SettleNodes(out List<XaNodes.Node>? made, out List<ushort>? freed) => Nodes.Settle(LastCovered(), out made, out freed);

    /// <summary>The last index an entry covers (an entry at index 0 counting as covering 2^order, xas_max()), or -1.</summary>
    long LastCovered()
    {
        if (_keys.Count == 0) return -1;
        long lastKey = _keys.Max;
        long max = (lastKey << _chunkShift) + _chunks[lastKey].Slots.AsSpan().LastIndexOfAnyExcept(0);
        if (ChunkAt(0) is { } c0 && c0.Orders[0] > 1) max = Math.Max(max, 1L << (c0.Orders[0] - 1));
        return max;
    }

    /// <summary>The xarray nodes the entries need, counted afresh from the entries (for the invariant checker).</summary>
    public int RecountNodes()
    {
        int root = XaNodes.RootLevel(LastCovered());
        if (root < 0) return 0;
        // Indexes come in order, so each level's nodes come in order too: a node is counted when its
        // key differs from the last one counted at its level.
        int count = 1;
        Span<long> last = stackalloc long[root];
        last.Fill(-1);
        foreach (long key in _keys)
        {
            var c = _chunks[key];
            for (int i = 0; i < c.Orders.Length;)
            {
                int order = c.Orders[i] - 1;
                if (order < 0) { i++; continue; }
                long index = (key << _chunkShift) + i;
                for (int level = XaNodes.LevelOf(order); level < root; level++)
                    if ((index >> (XaNodes.ChunkShift * (level + 1))) is var k && k != last[level]) { last[level] = k; count++; }
                i = (i & ~((1 << order) - 1)) + (1 << order);
            }
        }
        return count;
    }

    /// <summary>The first index at or after <paramref name="index"/> and below <paramref name="end"/> holding a folio (or, with <paramref name="swap"/>, also a swap entry), or -1.</summary>
    public long NextCached(long index, long end, bool swap = false)
    {
        foreach (long key in ChunksIn(index, end))
        {
            var slots = _chunks[key].Slots;
            long baseIndex = key << _chunkShift;
            for (long i = Math.Max(index, baseIndex); i < baseIndex + _chunkMask + 1 && i < end; i++)
                if (slots[(int)(i & _chunkMask)] is var v && (v > 0 || (swap && v < 0))) return i;
        }
        return -1;
    }

    /// <summary>The chunk numbers holding any index of [from, to), in order.</summary>
    IEnumerable<long> ChunksIn(long from, long to)
    {
        if (to <= from || _keys.Count == 0) return [];
        long last = Math.Min((to - 1) >> _chunkShift, _keys.Max);
        return last < from >> _chunkShift ? [] : _keys.GetViewBetween(from >> _chunkShift, last);
    }

    /// <summary>
    /// The folios holding any index of [from, to), in index order, each once: (first index, head PFN).
    /// One pass over the chunks: a folio never spans two (it is naturally aligned and at most PMD-sized).
    /// </summary>
    public List<(long Index, int Head)> Folios(long from, long to, Func<int, int> nrPages)
    {
        var list = new List<(long, int)>();
        Folios(from, to, nrPages, list);
        return list;
    }

    /// <summary><see cref="Folios(long, long, Func{int, int})"/> appended to <paramref name="list"/> (a caller's list reused from call to call).</summary>
    public void Folios(long from, long to, Func<int, int> nrPages, List<(long Index, int Head)> list)
    {
        if (to <= from) return;
        long firstKey = from >> _chunkShift, lastKey = (to - 1) >> _chunkShift;
        if (lastKey - firstKey < 4)
        {
            // a few chunks (a fault-around window's one): looked up directly, not through the sorted keys
            for (long key = firstKey; key <= lastKey; key++)
                if (_chunks.TryGetValue(key, out var chunk)) FoliosIn(chunk, key, from, to, nrPages, list);
            return;
        }
        foreach (long key in ChunksIn(from, to)) FoliosIn(_chunks[key], key, from, to, nrPages, list);
    }

    void FoliosIn(Chunk chunk, long key, long from, long to, Func<int, int> nrPages, List<(long Index, int Head)> list)
    {
        var slots = chunk.Slots;
        long baseIndex = key << _chunkShift;
        for (long i = Math.Max(from, baseIndex), end = Math.Min(to, baseIndex + _chunkMask + 1); i < end;)
        {
            int v = slots[i - baseIndex];
            if (v <= 0) { i++; continue; }
            int nr = nrPages(v - 1);
            long first = i & ~((long)nr - 1);
            list.Add((first, v - 1));
            i = first + nr;
        }
    }

    /// <summary>The swap entries holding any index of [from, to), in index order, each once: (first index, first slot, order).</summary>
    public List<(long Index, int Offset, int Order)> SwapEntries(long from, long to)
    {
        var list = new List<(long, int, int)>();
        SwapEntries(from, to, list);
        return list;
    }

    /// <summary><see cref="SwapEntries(long, long)"/> appended to <paramref name="list"/> (a caller's list reused from call to call).</summary>
    public void SwapEntries(long from, long to, List<(long Index, int Offset, int Order)> list)
    {
        foreach (long key in ChunksIn(from, to))
        {
            var slots = _chunks[key].Slots;
            long baseIndex = key << _chunkShift;
            for (long i = Math.Max(from, baseIndex), end = Math.Min(to, baseIndex + _chunkMask + 1); i < end;)
            {
                if (!Swap(slots[i - baseIndex], out int offset, out int order)) { i++; continue; }
                long first = i & ~((1L << order) - 1);
                list.Add((first, offset - (int)(i - first), order));
                i = first + (1L << order);
            }
        }
    }

    /// <summary>Whether any index of [from, from + n) holds a folio or a swap entry (xa_find() over the range, XA_PRESENT).</summary>
    public bool AnyIn(long from, long n) => NextCached(from, from + n, swap: true) >= 0;
}
