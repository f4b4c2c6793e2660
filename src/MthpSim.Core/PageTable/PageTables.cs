namespace MthpSim.Core.PageTable;

/// <summary>
/// The page tables of one address space, kept at PMD granularity: the <see cref="PmdSlot"/> of each
/// PMD index (address / PMD size) in a radix tree of 512-entry arrays, as the upper levels of the
/// real page tables hold them (a PMD page under each PUD entry, a PUD page under each PGD entry), so
/// that a lookup is two array reads and a walk in address order needs no sort. A one-entry cache
/// serves sequential access.
/// </summary>
public sealed class PageTables
{
    const int Bits = 9, Fan = 1 << Bits, Mask = Fan - 1;

    /// <summary>log2 of the entries of a table page: a PMD page holds this many PMD entries, a PUD page as many PMD pages.</summary>
    readonly int _tableBits;
    /// <summary>
    /// The frames of the PMD pages (by PMD index >> table bits) and PUD pages (>> twice that) of the
    /// address space, the PGD not modelled. A slot exists only under a PMD page, and a PMD page
    /// only under a PUD page when there is that level (<see cref="PudLevel"/>).
    /// </summary>
    readonly Dictionary<long, int> _pmdPages = new(), _pudPages = new();
    /// <summary>A PMD page known to exist: faults in one range ask for it again and again.</summary>
    long _lastPmdPage = -1;

    /// <param name="tableBits">log2 of the entries of a page-table page (<see cref="Arch.Geometry.PmdOrder"/>).</param>
    /// <param name="pudLevel">Whether PUD pages sit between the PGD and the PMD pages (four levels or more).</param>
    public PageTables(int tableBits, bool pudLevel) => (_tableBits, PudLevel) = (tableBits, pudLevel);

    /// <summary>Whether the page tables have a PUD level (with three levels the PGD holds the PMD pages).</summary>
    public bool PudLevel { get; }

    /// <summary>Top level, by PMD index >> 18: few entries, kept in ascending order of their key.</summary>
    readonly SortedList<long, PmdSlot?[]?[]> _top = new();
    int _count, _version;
    long _lastIndex = -1;
    PmdSlot? _last;
    long _lastTopKey = -1;
    PmdSlot?[]?[]? _lastTop;
    // The leaf last looked up: a walk in address order stays in one for 512 PMDs.
    long _lastLeafKey = -1;
    PmdSlot?[]? _lastLeaf;

    public PmdSlot? Find(long pmdIndex)
    {
        if (pmdIndex == _lastIndex) return _last;
        // a walk in address order stays in the last leaf: no call for it
        var leaf = pmdIndex >> Bits == _lastLeafKey ? _lastLeaf : Leaf(pmdIndex, create: false);
        var s = leaf?[pmdIndex & Mask];
        _lastIndex = pmdIndex;
        _last = s;
        return s;
    }

    /// <summary>The slot of a PMD entry, made if missing; its PMD page must exist (Kernel.PmdAlloc()).</summary>
    public PmdSlot GetOrCreate(long pmdIndex)
    {
        var s = Find(pmdIndex);
        if (s != null) return s;
        if (!HasPmdPage(pmdIndex)) throw new InvalidOperationException($"PMD entry {pmdIndex:x} has no PMD page above it");
        s = new PmdSlot();
        (pmdIndex >> Bits == _lastLeafKey ? _lastLeaf : Leaf(pmdIndex, create: true))![pmdIndex & Mask] = s;
        _count++;
        _version++;
        _lastIndex = pmdIndex;
        _last = s;
        return s;
    }

    public void Remove(long pmdIndex)
    {
        var leaf = pmdIndex >> Bits == _lastLeafKey ? _lastLeaf : Leaf(pmdIndex, create: false);
        if (leaf?[pmdIndex & Mask] == null) return;
        leaf[pmdIndex & Mask] = null;
        _count--;
        _version++;
        if (_lastIndex == pmdIndex) { _lastIndex = -1; _last = null; }
    }

    /// <summary>The 512-slot array holding pmdIndex (the PMD page under its PUD entry), made if asked.</summary>
    PmdSlot?[]? Leaf(long pmdIndex, bool create)
    {
        long leafKey = pmdIndex >> Bits;
        if (leafKey == _lastLeafKey) return _lastLeaf;
        long topKey = pmdIndex >> (2 * Bits);
        if (topKey != _lastTopKey)
        {
            if (!_top.TryGetValue(topKey, out var t))
            {
                if (!create) return null;
                _top.Add(topKey, t = new PmdSlot?[]?[Fan]);
            }
            (_lastTopKey, _lastTop) = (topKey, t);
        }
        ref var leaf = ref _lastTop![(pmdIndex >> Bits) & Mask];
        if (leaf == null && create) leaf = new PmdSlot?[Fan];
        if (leaf != null) (_lastLeafKey, _lastLeaf) = (leafKey, leaf);   // leaves are never dropped
        return leaf;
    }

    /// <summary>Slots in ascending address order (deterministic); slots may not be added or removed meanwhile.</summary>
    public IEnumerable<(long Index, PmdSlot Slot)> Ordered()
    {
        int version = _version;
        for (int t = 0; t < _top.Count; t++)
        {
            long topKey = _top.Keys[t];
            var mid = _top.Values[t];
            for (int m = 0; m < Fan; m++)
            {
                if (mid[m] is not { } leaf) continue;
                long leafBase = (topKey << (2 * Bits)) | ((long)m << Bits);
                for (int i = 0; i < Fan; i++)
                    if (leaf[i] is { } s)
                    {
                        yield return (leafBase + i, s);
                        if (version != _version) throw new InvalidOperationException("page tables changed during a walk");
                    }
            }
        }
    }

    public int Count => _count;

    /// <summary>PMD entries under one PMD page.</summary>
    public long PmdPageSpan => 1L << _tableBits;
    /// <summary>PMD entries under one PUD page.</summary>
    public long PudPageSpan => 1L << (2 * _tableBits);

    public bool HasPmdPage(long pmdIndex)
    {
        long key = pmdIndex >> _tableBits;
        if (key == _lastPmdPage) return true;
        if (!_pmdPages.ContainsKey(key)) return false;
        _lastPmdPage = key;
        return true;
    }

    public bool HasPudPage(long pmdIndex) => _pudPages.ContainsKey(pmdIndex >> (2 * _tableBits));

    internal void AddPmdPage(long pmdIndex, int pfn) => _pmdPages.Add(pmdIndex >> _tableBits, pfn);

    internal void AddPudPage(long pmdIndex, int pfn) => _pudPages.Add(pmdIndex >> (2 * _tableBits), pfn);

    /// <summary>Takes out the PMD page above PMDINDEX: its frame, or -1 when there is none.</summary>
    internal int RemovePmdPage(long pmdIndex)
    {
        long key = pmdIndex >> _tableBits;
        if (key == _lastPmdPage) _lastPmdPage = -1;
        return _pmdPages.Remove(key, out int pfn) ? pfn : -1;
    }

    /// <summary>Takes out the PUD page above PMDINDEX: its frame, or -1 when there is none.</summary>
    internal int RemovePudPage(long pmdIndex) => _pudPages.Remove(pmdIndex >> (2 * _tableBits), out int pfn) ? pfn : -1;

    /// <summary>The PMD and PUD pages: the first PMD index each covers, its frame, and whether it is a PUD page.</summary>
    public IEnumerable<(long FirstIndex, int Pfn, bool Pud)> UpperPages()
    {
        foreach (var (key, pfn) in _pmdPages) yield return (key << _tableBits, pfn, false);
        foreach (var (key, pfn) in _pudPages) yield return (key << (2 * _tableBits), pfn, true);
    }

    public int UpperPageCount => _pmdPages.Count + _pudPages.Count;
}
