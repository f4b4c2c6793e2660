namespace MthpSim.Core.PageTable;

/// <summary>
/// The page tables of one address space, kept at PMD granularity: a map from PMD index
/// (address / PMD size) to its <see cref="PmdSlot"/>, with a one-entry cache for sequential access.
/// </summary>
public sealed class PageTables
{
    readonly Dictionary<long, PmdSlot> _slots = new();
    long _lastIndex = -1;
    PmdSlot? _last;

    public PmdSlot? Find(long pmdIndex)
    {
        if (pmdIndex == _lastIndex) return _last;
        _slots.TryGetValue(pmdIndex, out var s);
        _lastIndex = pmdIndex;
        _last = s;
        return s;
    }

    public PmdSlot GetOrCreate(long pmdIndex)
    {
        var s = Find(pmdIndex);
        if (s != null) return s;
        s = new PmdSlot();
        _slots[pmdIndex] = s;
        _lastIndex = pmdIndex;
        _last = s;
        return s;
    }

    public void Remove(long pmdIndex)
    {
        _slots.Remove(pmdIndex);
        if (_lastIndex == pmdIndex) { _lastIndex = -1; _last = null; }
    }

    /// <summary>Whether any PMD index in [from, to) has a slot (a PMD table page exists there).</summary>
    public bool AnyInRange(long from, long to)
    {
        foreach (var k in _slots.Keys)
            if (k >= from && k < to) return true;
        return false;
    }

    /// <summary>Slots in ascending address order (deterministic).</summary>
    public IEnumerable<(long Index, PmdSlot Slot)> Ordered() =>
        _slots.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value));

    public int Count => _slots.Count;
}
