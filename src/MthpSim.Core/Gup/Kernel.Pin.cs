using MthpSim.Core.Fault;
using MthpSim.Core.Folio;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/gup.c: long-term pins (pin_user_pages(FOLL_WRITE | FOLL_LONGTERM), as io_uring fixed buffers take them).
public sealed partial class Kernel
{
    /// <summary>GUP_PIN_COUNTING_BIAS: a pin adds this much to a small folio's refcount.</summary>
    public const int GupPinCountingBias = 1024;

    /// <summary>
    /// One pin_user_pages() call that is still held (an io_uring fixed buffer): the range it was
    /// asked for and the page frame it pinned at each page, in address order.
    /// </summary>
    internal readonly record struct PinnedRange(ulong Start, ulong End, int[] Pfns);

    /// <summary>Pins held per process, oldest first. Pins may overlap: each holds its own pin on every page.</summary>
    readonly Dictionary<int, List<PinnedRange>> _pins = new();

    /// <summary>Pins held, per process (the invariant checker tallies them without allocating).</summary>
    internal Dictionary<int, List<PinnedRange>>.ValueCollection PinLists => _pins.Values;

    /// <summary>Pins held per page frame, for the invariant checker.</summary>
    public Dictionary<int, int> PinCounts()
    {
        var d = new Dictionary<int, int>();
        foreach (var list in _pins.Values)
            foreach (var range in list)
                foreach (int p in range.Pfns) d[p] = d.GetValueOrDefault(p) + 1;
        return d;
    }

    /// <summary>
    /// models pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM), as io_uring pins: gup-fast takes pages
    /// mapped writable (so exclusive) and sets PG_referenced, up to the first that is not; from there
    /// the slow path faults each page in for writing (breaking COW) and follows it with FOLL_TOUCH.
    /// Each folio is pinned: +1 refcount and +1 pincount on a large folio, +GUP_PIN_COUNTING_BIAS on
    /// a small one. Marks the mm MMF_HAS_PINNED.
    /// </summary>
    public long Pin(MmStruct mm, ulong start, ulong end)
    {
        ulong pageSize = (ulong)Geo.PageSize;
        var taken = new List<int>();
        bool fast = true;
        for (ulong addr = start & ~(pageSize - 1); addr < end; addr += pageSize)
        {
            var vma = mm.FindVma(addr);
            bool mapped = vma != null && MappedWith(mm, addr, write: true);
            fast &= mapped;
            long rc = vma == null || !VmaPermits(vma, write: true) ? -Errno.EFAULT : mapped ? 0 : FaultIn(vma, addr, write: true);
            if (rc != 0)
            {
                foreach (int pfn in taken) UnpinFolio(pfn);   // as GUP drops what it took on failure
                return rc;
            }
            int page = ResolvePfn(mm, addr, out _);
            int head = Map.HeadOf(page);
            if (fast) Map.Set(head, PageFlags.Referenced);   // gup_fast_pte_range(), gup_fast_pmd_leaf()
            else GupTouch(mm, addr, write: true);
            if (Map.Order(head) > 0) { Map.AddPincount(head, 1); Map.AddRef(head, 1); }
            else Map.AddRef(head, GupPinCountingBias);
            taken.Add(page);
        }
        mm.HasPinned = true;
        if (!_pins.TryGetValue(mm.Id, out var list)) _pins[mm.Id] = list = new();
        list.Add(new PinnedRange(start, end, [.. taken]));
        return 0;
    }

    /// <summary>
    /// models unpin_user_pages() on the pages of the most recent pin of exactly [start, end) (an io_uring
    /// buffer unregistered): other pins of those pages stay. -ENXIO when no pin has that range (never
    /// pinned, or unpinned already): what IORING_UNREGISTER_BUFFERS returns with no buffer registered.
    /// </summary>
    public long Unpin(MmStruct mm, ulong start, ulong end)
    {
        if (!_pins.TryGetValue(mm.Id, out var list)) return -Errno.ENXIO;
        int i = list.FindLastIndex(r => r.Start == start && r.End == end);
        if (i < 0) return -Errno.ENXIO;
        foreach (int pfn in list[i].Pfns) UnpinFolio(pfn);
        list.RemoveAt(i);
        return 0;
    }

    /// <summary>models gup_put_folio(FOLL_PIN): may free a folio that nothing maps any more.</summary>
    void UnpinFolio(int pfn)
    {
        int head = Map.HeadOf(pfn);
        if (Map.Order(head) > 0) { Map.AddPincount(head, -1); FolioPut(head, 1); }
        else FolioPut(head, GupPinCountingBias);
    }

    /// <summary>Pins end with the process (its io_uring ring is closed at exit).</summary>
    void UnpinAll(MmStruct mm)
    {
        if (!_pins.Remove(mm.Id, out var list)) return;
        foreach (var range in list)
            foreach (int pfn in range.Pfns) UnpinFolio(pfn);
    }
}
