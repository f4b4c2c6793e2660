namespace MthpSim.Core.Shmem;

/// <summary>
/// A file's page cache (mapping->i_pages): file page index to the head PFN of the folio holding it.
/// Like the xarray's multi-index entries, every index a folio covers holds its head, so a lookup is one
/// array read. Storage is one array per PMD-sized block of indexes, made on first use and dropped when
/// empty: 4 bytes per cached page, no object per page.
/// </summary>
public sealed class PageCache
{
    readonly int _chunkShift;
    readonly int _chunkMask;
    /// <summary>Chunk number to its slots (head PFN + 1; 0 = empty) and how many slots are used.</summary>
    readonly Dictionary<long, (int[] Slots, int Used)> _chunks = new();
    /// <summary>The chunk numbers in order, so that a search starts at the chunk it needs.</summary>
    readonly SortedSet<long> _keys = new();

    public PageCache(int pmdOrder)
    {
        _chunkShift = pmdOrder;
        _chunkMask = (1 << pmdOrder) - 1;
    }

    /// <summary>Pages cached (every index of every folio).</summary>
    public long Pages { get; private set; }

    /// <summary>models filemap_get_entry(): the head PFN of the folio holding index, or -1.</summary>
    public int Lookup(long index) =>
        _chunks.TryGetValue(index >> _chunkShift, out var c) ? c.Slots[(int)(index & _chunkMask)] - 1 : -1;

    /// <summary>Stores a folio of <paramref name="nr"/> pages at its (naturally aligned) first index.</summary>
    public void Insert(long index, int head, int nr) => Fill(index, nr, head + 1);

    /// <summary>Forgets <paramref name="nr"/> indexes from <paramref name="index"/>.</summary>
    public void Remove(long index, int nr) => Fill(index, nr, 0);

    void Fill(long index, int nr, int value)
    {
        while (nr > 0)
        {
            long key = index >> _chunkShift;
            int at = (int)(index & _chunkMask);
            int n = Math.Min(nr, _chunkMask + 1 - at);
            if (!_chunks.TryGetValue(key, out var c))
            {
                if (value == 0) { index += n; nr -= n; continue; }
                c = (new int[_chunkMask + 1], 0);
            }
            for (int i = at; i < at + n; i++)
            {
                bool was = c.Slots[i] != 0;
                c.Slots[i] = value;
                int d = (value != 0 ? 1 : 0) - (was ? 1 : 0);
                c.Used += d;
                Pages += d;
            }
            if (c.Used == 0) { _chunks.Remove(key); _keys.Remove(key); }
            else if (_chunks.TryAdd(key, c)) _keys.Add(key);
            else _chunks[key] = c;
            index += n;
            nr -= n;
        }
    }

    /// <summary>The first cached index at or after <paramref name="index"/> and below <paramref name="end"/>, or -1.</summary>
    public long NextCached(long index, long end)
    {
        if (end <= index || _keys.Count == 0) return -1;
        long last = Math.Min((end - 1) >> _chunkShift, _keys.Max);
        if (last < index >> _chunkShift) return -1;
        foreach (long key in _keys.GetViewBetween(index >> _chunkShift, last))
        {
            var slots = _chunks[key].Slots;
            long baseIndex = key << _chunkShift;
            for (long i = Math.Max(index, baseIndex); i < baseIndex + _chunkMask + 1 && i < end; i++)
                if (slots[(int)(i & _chunkMask)] != 0) return i;
        }
        return -1;
    }

    /// <summary>The folios holding any index of [from, to), in index order, each once: (first index, head PFN).</summary>
    public List<(long Index, int Head)> Folios(long from, long to, Func<int, int> nrPages)
    {
        var list = new List<(long, int)>();
        long i = from;
        while (i < to)
        {
            i = NextCached(i, to);
            if (i < 0) break;
            int head = Lookup(i);
            int nr = nrPages(head);
            long first = i & ~((long)nr - 1);
            list.Add((first, head));
            i = first + nr;
        }
        return list;
    }

    /// <summary>Whether any index of [from, from + n) is cached (xa_find() over the range).</summary>
    public bool AnyIn(long from, long n) => NextCached(from, from + n) >= 0;
}
