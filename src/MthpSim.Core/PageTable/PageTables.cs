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

    public PmdSlot GetOrCreate(long pmdIndex)
    {
        var s = Find(pmdIndex);
        if (s != null) return s;
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

    /// <summary>Whether any PMD index in [from, to) has a slot (a PMD table page exists there).</summary>
    public bool AnyInRange(long from, long to)
    {
        for (long i = from; i < to;)
        {
            long leafEnd = Math.Min((i | Mask) + 1, to);
            if (Leaf(i, create: false) is { } leaf)
                for (long j = i; j < leafEnd; j++)
                    if (leaf[j & Mask] != null) return true;
            i = leafEnd;
        }
        return false;
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
}
