using MthpSim.Core.Fault;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/gup.c: long-term pins (pin_user_pages(FOLL_WRITE | FOLL_LONGTERM), as io_uring fixed buffers take them).
public sealed partial class Kernel
{
    /// <summary>GUP_PIN_COUNTING_BIAS: a pin adds this much to a small folio's refcount.</summary>
    public const int GupPinCountingBias = 1024;

    /// <summary>Pins taken per process: the page frame pinned at each address, in pin order.</summary>
    readonly Dictionary<int, List<(ulong Addr, int Pfn)>> _pins = new();

    /// <summary>Pins held, one entry per pinned page, per process (the invariant checker tallies them without allocating).</summary>
    internal Dictionary<int, List<(ulong Addr, int Pfn)>>.ValueCollection PinLists => _pins.Values;

    /// <summary>Pins held per page frame, for the invariant checker.</summary>
    public Dictionary<int, int> PinCounts()
    {
        var d = new Dictionary<int, int>();
        foreach (var list in _pins.Values)
            foreach (var (_, p) in list) d[p] = d.GetValueOrDefault(p) + 1;
        return d;
    }

    /// <summary>
    /// models pin_user_pages(FOLL_WRITE | FOLL_LONGTERM): each page is faulted in for writing first
    /// (breaking COW, so the pinned page is exclusive), then its folio is pinned: +1 refcount and +1
    /// pincount on a large folio, +GUP_PIN_COUNTING_BIAS on a small one. Marks the mm MMF_HAS_PINNED.
    /// </summary>
    public long Pin(MmStruct mm, ulong start, ulong end)
    {
        ulong pageSize = (ulong)Geo.PageSize;
        var taken = new List<(ulong, int)>();
        for (ulong addr = start & ~(pageSize - 1); addr < end; addr += pageSize)
        {
            var vma = mm.FindVma(addr);
            long rc = vma == null || !VmaPermits(vma, write: true) ? -Errno.EFAULT
                : MappedWith(mm, addr, write: true) ? 0
                : HandleMmFault(vma, addr, write: true) switch { FaultResult.Ok => 0, FaultResult.Oom => -Errno.ENOMEM, _ => -Errno.EFAULT };
            if (rc != 0)
            {
                foreach (var (_, pfn) in taken) UnpinFolio(pfn);   // as GUP drops what it took on failure
                return rc;
            }
            int page = ResolvePfn(mm, addr, out _);
            int head = Map.HeadOf(page);
            if (Map.Order(head) > 0) { Map.Large(head).Pincount++; Map.AddRef(head, 1); }
            else Map.AddRef(head, GupPinCountingBias);
            taken.Add((addr, page));
        }
        mm.HasPinned = true;
        if (!_pins.TryGetValue(mm.Id, out var list)) _pins[mm.Id] = list = new();
        list.AddRange(taken);
        return 0;
    }

    /// <summary>models unpin_user_pages() for the pins this process took in [start, end).</summary>
    public long Unpin(MmStruct mm, ulong start, ulong end)
    {
        if (!_pins.TryGetValue(mm.Id, out var list)) return 0;
        for (int i = list.Count - 1; i >= 0; i--)
        {
            if (list[i].Addr < start || list[i].Addr >= end) continue;
            UnpinFolio(list[i].Pfn);
            list.RemoveAt(i);
        }
        return 0;
    }

    /// <summary>models gup_put_folio(FOLL_PIN): may free a folio that nothing maps any more.</summary>
    void UnpinFolio(int pfn)
    {
        int head = Map.HeadOf(pfn);
        if (Map.Order(head) > 0) { Map.Large(head).Pincount--; FolioPut(head, 1); }
        else FolioPut(head, GupPinCountingBias);
    }

    /// <summary>Pins end with the process (its io_uring ring is closed at exit).</summary>
    void UnpinAll(MmStruct mm)
    {
        if (!_pins.Remove(mm.Id, out var list)) return;
        foreach (var (_, pfn) in list) UnpinFolio(pfn);
    }
}
