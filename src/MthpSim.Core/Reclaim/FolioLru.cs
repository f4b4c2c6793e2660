using MthpSim.Core.Host;

namespace MthpSim.Core.Reclaim;

/// <summary>
/// folio->lru for every head page frame: the links of the LRU list a folio is on (towards the head,
/// newer, and towards the tail, older) and which list that is, or that reclaim has it isolated. Host
/// memory is committed only where touched.
/// </summary>
public sealed unsafe class FolioLru
{
    /// <summary>Not on a list (a new, freed or non-LRU folio).</summary>
    const byte None = 0;
    /// <summary>Taken off its list by reclaim (folio_isolate_lru()), to be put back or freed.</summary>
    const byte Isolated = 0xFF;

    readonly LazyHostMemory _memory;
    readonly int* _newer, _older;
    /// <summary>1 + the list, <see cref="None"/> or <see cref="Isolated"/>.</summary>
    readonly byte* _list;

    public FolioLru(long totalPages)
    {
        long ints = (totalPages * sizeof(int) + 4095) & ~4095L;
        _memory = new LazyHostMemory(2 * ints + totalPages);
        _newer = (int*)_memory.Pointer;
        _older = (int*)(_memory.Pointer + ints);
        _list = _memory.Pointer + 2 * ints;
    }

    /// <summary>folio_test_lru(): on one of the lists.</summary>
    public bool OnLru(int head) { bool b = _list[head] is not None and not Isolated; GC.KeepAlive(this); return b; }
    public bool IsIsolated(int head) { bool b = _list[head] == Isolated; GC.KeepAlive(this); return b; }
    public LruList ListOf(int head) { var l = (LruList)(_list[head] - 1); GC.KeepAlive(this); return l; }
    /// <summary>The next folio towards the tail (older), or -1.</summary>
    public int Older(int head) { int o = _older[head]; GC.KeepAlive(this); return o - 1; }

    /// <summary>list_add(): at the head of the list, as the newest folio.</summary>
    internal void AddHead(Lruvec vec, LruList l, int head, int nr)
    {
        int old = vec.Head[(int)l];
        Link(head, l, newer: -1, older: old);
        if (old >= 0) _newer[old] = head + 1; else vec.Tail[(int)l] = head;
        vec.Head[(int)l] = head;
        vec.AddPages(l, nr);
        GC.KeepAlive(this);
    }

    /// <summary>list_add_tail(): at the tail, the next to be isolated (folio_rotate_reclaimable()).</summary>
    internal void AddTail(Lruvec vec, LruList l, int head, int nr)
    {
        int old = vec.Tail[(int)l];
        Link(head, l, newer: old, older: -1);
        if (old >= 0) _older[old] = head + 1; else vec.Head[(int)l] = head;
        vec.Tail[(int)l] = head;
        vec.AddPages(l, nr);
        GC.KeepAlive(this);
    }

    /// <summary>list_add_tail(&amp;new->lru, &amp;anchor->lru): just on the newer side of a folio already on a list (lru_add_split_folio()).</summary>
    internal void AddNewerThan(Lruvec vec, int anchor, int head)
    {
        var l = ListOf(anchor);
        int newer = _newer[anchor] - 1;
        Link(head, l, newer: newer, older: anchor);
        _newer[anchor] = head + 1;
        if (newer >= 0) _older[newer] = head + 1; else vec.Head[(int)l] = head;
        GC.KeepAlive(this);
    }

    /// <summary>list_del() from the list it is on; <paramref name="nr"/> pages leave the list's size.</summary>
    internal void Del(Lruvec vec, int head, int nr)
    {
        var l = ListOf(head);
        int newer = _newer[head] - 1, older = _older[head] - 1;
        if (newer >= 0) _older[newer] = older + 1; else vec.Head[(int)l] = older;
        if (older >= 0) _newer[older] = newer + 1; else vec.Tail[(int)l] = newer;
        _newer[head] = _older[head] = 0;
        _list[head] = None;
        vec.AddPages(l, -nr);
        GC.KeepAlive(this);
    }

    /// <summary>Puts NEW where OLD is on its list (folio_migrate_flags() with the LRU position kept), OLD off every list.</summary>
    internal void Replace(Lruvec vec, int old, int @new)
    {
        byte list = _list[old];
        _list[@new] = list;
        _list[old] = None;
        if (list is None or Isolated) { GC.KeepAlive(this); return; }
        var l = (LruList)(list - 1);
        int newer = _newer[old] - 1, older = _older[old] - 1;
        Link(@new, l, newer, older);
        if (newer >= 0) _older[newer] = @new + 1; else vec.Head[(int)l] = @new;
        if (older >= 0) _newer[older] = @new + 1; else vec.Tail[(int)l] = @new;
        _newer[old] = _older[old] = 0;
        GC.KeepAlive(this);
    }

    internal void MarkIsolated(int head) { _list[head] = Isolated; GC.KeepAlive(this); }
    internal void ClearIsolated(int head) { _list[head] = None; GC.KeepAlive(this); }

    void Link(int head, LruList l, int newer, int older)
    {
        _newer[head] = newer + 1;
        _older[head] = older + 1;
        _list[head] = (byte)(l + 1);
    }
}
