namespace MthpSim.Core.Folio;

/// <summary>
/// Per-page-frame state, struct-of-arrays indexed by PFN (the kernel's mem_map / struct page).
/// Arrays grow with the highest PFN the buddy allocator has handed out, so host memory follows what
/// the simulated machine uses: 15 bytes per page frame plus one <see cref="LargeFolioInfo"/> per large folio.
/// Raw arrays are internal; use the accessors, as the kernel asks for folio_*() helpers.
/// </summary>
public sealed class MemMap
{
    internal byte[] _kind = [];
    internal byte[] _order = [];
    internal byte[] _flags = [];
    /// <summary>PTE mapcount per page (the kernel stores it biased by -1; we store the count).</summary>
    internal int[] _mapcount = [];
    /// <summary>Folio refcount on the head page; on the first tail of a large folio, its LargeFolioInfo slot.</summary>
    internal int[] _refcount = [];
    /// <summary>Content token per page: 0 is all zeroes, anything else identifies one write.</summary>
    internal uint[] _content = [];

    LargeFolioInfo[] _large = new LargeFolioInfo[64];
    readonly Stack<int> _freeLarge = new();
    int _largeUsed;

    public long TotalPages { get; }
    public int Capacity => _kind.Length;

    /// <summary>
    /// Host bytes of per-frame state held outside the managed heap (native, lazily committed memory).
    /// Stub for the benchmark (issue 9): the arrays are still managed here, so they are already in the
    /// GC heap that <c>mthpsim bench</c> weighs and this is 0; the native MemMap returns its committed bytes.
    /// </summary>
    public long NativeBytes => 0;

    public MemMap(long totalPages) => TotalPages = totalPages;

    /// <summary>Grow the arrays so that PFNs below <paramref name="pfnEnd"/> are addressable.</summary>
    internal void EnsureCapacity(long pfnEnd)
    {
        if (pfnEnd <= _kind.Length) return;
        long n = Math.Max(pfnEnd, Math.Min(TotalPages, Math.Max(1L << 16, (long)_kind.Length * 2)));
        int size = checked((int)n);
        Array.Resize(ref _kind, size);
        Array.Resize(ref _order, size);
        Array.Resize(ref _flags, size);
        Array.Resize(ref _mapcount, size);
        Array.Resize(ref _refcount, size);
        Array.Resize(ref _content, size);
    }

    public PageKind Kind(int pfn) => (PageKind)_kind[pfn];
    public int Order(int pfn) => _order[pfn];
    public int HeadOf(int pfn) => pfn & ~((1 << _order[pfn]) - 1);
    public int Refcount(int head) => _refcount[head];
    public int PteMapcount(int pfn) => _mapcount[pfn];
    public uint Content(int pfn) => _content[pfn];
    public bool IsLarge(int head) => _order[head] > 0;

    public bool Test(int pfn, PageFlags f) => (_flags[pfn] & (byte)f) != 0;
    public void Set(int pfn, PageFlags f) => _flags[pfn] |= (byte)f;
    public void Clear(int pfn, PageFlags f) => _flags[pfn] &= (byte)~f;

    /// <summary>The large-folio fields of a folio of order >= 1.</summary>
    public ref LargeFolioInfo Large(int head) => ref _large[_refcount[head + 1]];

    /// <summary>models folio_entire_mapcount()</summary>
    public int EntireMapcount(int head) => _order[head] == 0 ? 0 : Large(head).EntireMapcount;

    /// <summary>models folio_precise_page_mapcount(): PTE mappings of the page plus PMD mappings of its folio.</summary>
    public int PageMapcount(int pfn) => _mapcount[pfn] + EntireMapcount(HeadOf(pfn));

    /// <summary>models folio_mapcount(): every PTE mapping of every page plus every PMD mapping.</summary>
    public int FolioMapcount(int head)
    {
        int order = _order[head];
        if (order == 0) return _mapcount[head];
        int n = Large(head).EntireMapcount;
        int end = head + (1 << order);
        for (int p = head; p < end; p++) n += _mapcount[p];
        return n;
    }

    /// <summary>Marks [head, head+2^order) as one folio of <paramref name="kind"/>: zeroed, refcount 1, unmapped.</summary>
    internal void InitFolio(int head, int order, PageKind kind)
    {
        int end = head + (1 << order);
        Array.Fill(_kind, (byte)kind, head, end - head);
        Array.Fill(_order, (byte)order, head, end - head);
        Array.Clear(_flags, head, end - head);
        Array.Clear(_mapcount, head, end - head);
        Array.Clear(_content, head, end - head);
        _refcount[head] = 1;
        if (order > 0)
        {
            int slot = _freeLarge.Count > 0 ? _freeLarge.Pop() : NewLargeSlot();
            _large[slot] = new LargeFolioInfo { DeferredPrev = -1, DeferredNext = -1 };
            _refcount[head + 1] = slot;
        }
    }

    int NewLargeSlot()
    {
        if (_largeUsed == _large.Length) Array.Resize(ref _large, _large.Length * 2);
        return _largeUsed++;
    }

    /// <summary>Releases the large-folio slot before the pages go back to the buddy allocator.</summary>
    internal void ReleaseFolio(int head)
    {
        if (_order[head] > 0) _freeLarge.Push(_refcount[head + 1]);
        _refcount[head] = 0;
        if (_order[head] > 0) _refcount[head + 1] = 0;
    }

    /// <summary>Turns one large folio into order-0 folios in place (the bookkeeping half of __split_unmapped_folio).</summary>
    internal void SplitToOrder0(int head)
    {
        int order = _order[head];
        _freeLarge.Push(_refcount[head + 1]);
        int end = head + (1 << order);
        Array.Clear(_order, head, end - head);
        byte folioFlags = (byte)(_flags[head] & 0xF0);
        for (int p = head; p < end; p++)
            _flags[p] = (byte)((_flags[p] & 0x0F) | (folioFlags & (byte)PageFlags.LazyFree));
        Array.Clear(_refcount, head, end - head);
    }

    public void SetContent(int pfn, uint token) => _content[pfn] = token;
    internal void AddRef(int head, int n) => _refcount[head] += n;
    internal void AddPteMapcount(int pfn, int n) => _mapcount[pfn] += n;
}
