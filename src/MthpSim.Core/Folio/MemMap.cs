using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MthpSim.Core.Host;

namespace MthpSim.Core.Folio;

/// <summary>
/// Per-page-frame state, struct-of-arrays indexed by PFN (the kernel's mem_map / struct page).
/// The arrays span the whole machine in host memory reserved up front and committed lazily by the
/// host (<see cref="LazyHostMemory"/>), so host memory follows the highest PFN the buddy allocator
/// has handed out and never grows by copying: 11 bytes per frame (kind and order share a byte, the
/// PTE mapcount is a byte with larger values kept aside), plus one <see cref="LargeFolioInfo"/> per
/// large folio: in the refcount slots of its own tail pages from order <see cref="InlineLargeOrder"/>
/// on (as the kernel keeps these fields in tail struct pages), packed into the three such slots of
/// a folio of order 2 or 3 (<see cref="PackedLargeFolioInfo"/>), and in a side table otherwise.
/// Raw storage is internal; use the accessors, as the kernel asks for folio_*() helpers.
/// </summary>
public sealed unsafe class MemMap
{
    /// <summary>Kind in the high nibble, order in the low nibble (orders go up to 13).</summary>
    readonly byte* _frame;
    readonly byte* _flags;
    /// <summary>PTE mapcount per page (the kernel stores it biased by -1; we store the count); <see cref="MapcountAside"/> means "see the side table".</summary>
    readonly byte* _mapcount;
    /// <summary>Folio refcount on the head page; on the tails of a large folio, its <see cref="LargeFolioInfo"/> (see <see cref="Large"/>).</summary>
    readonly int* _refcount;
    /// <summary>Content token per page: 0 is all zeroes, anything else identifies one write.</summary>
    readonly uint* _content;
    /// <summary>Mapcounts a byte cannot hold (255 and more mappings of one page, or a corrupted negative count).</summary>
    readonly Dictionary<int, int> _mapcountAside = new();
    const byte MapcountAside = byte.MaxValue;

    readonly LazyHostMemory _memory;
    long _highWater;

    /// <summary>
    /// From this order on a folio's <see cref="LargeFolioInfo"/> lies in the refcount slots of its tail
    /// pages from the second on (unused otherwise: only a head has a refcount), 8-byte aligned since
    /// the head is; the first tail's slot holds <see cref="InlineRecord"/>.
    /// </summary>
    internal const int InlineLargeOrder = 4;
    const int InlineRecord = int.MinValue;
    /// <summary>From this order on (below <see cref="InlineLargeOrder"/>) a record that fits is packed into the tails' three slots.</summary>
    const int PackedLargeOrder = 2;

    // Large-folio records of smaller folios in fixed-size chunks: the table grows a chunk at a time, never by copying.
    const int LargeChunkShift = 10;
    readonly List<LargeFolioInfo[]> _large = new();
    readonly Stack<int> _freeLarge = new();
    int _largeUsed;

    public long TotalPages { get; }
    /// <summary>PFNs below this may have been used (the buddy allocator's frontier).</summary>
    public int Capacity => (int)_highWater;

    /// <summary>Bytes of per-frame state per page frame.</summary>
    public const int BytesPerFrame = 1 + 1 + 1 + 4 + 4;

    public MemMap(long totalPages)
    {
        TotalPages = totalPages;
        long region = Align(totalPages);
        _memory = new LazyHostMemory(region * 3 + Align(totalPages * 4) * 2, recyclable: true);   // written only where populated
        byte* p = _memory.Pointer;
        _frame = p;
        _flags = p + region;
        _mapcount = p + 2 * region;
        _refcount = (int*)(p + 3 * region);
        _content = (uint*)(p + 3 * region + Align(totalPages * 4));
    }

    static long Align(long bytes) => (bytes + 4095) & ~4095L;

    /// <summary>The length of the host block behind the arrays (for tests of its recycling).</summary>
    internal long HostBlockLength => _memory.Length;

    /// <summary>
    /// Host memory outside the managed heap that the per-frame arrays occupy: their touched part (the
    /// large-folio records and the side table are managed objects, counted by the garbage collector).
    /// </summary>
    public long NativeBytes => 3 * Align(_populated) + 2 * Align(_populated * 4);

    /// <summary>Notes that PFNs below <paramref name="pfnEnd"/> are now in use, and has the host commit their state (nothing is copied or moved).</summary>
    internal void EnsureCapacity(long pfnEnd)
    {
        System.Diagnostics.Debug.Assert(pfnEnd <= TotalPages);
        if (pfnEnd <= _highWater) return;
        _memory.AddPressure((pfnEnd - _highWater) * BytesPerFrame);
        _highWater = pfnEnd;
        if (pfnEnd > _populated) PopulateTo(pfnEnd);
    }

    /// <summary>Frames committed ahead at a time: 44 KiB of host memory for 16 MiB of a 4K-page machine.</summary>
    const long PopulateChunk = 4096;
    long _populated;

    /// <summary>
    /// Commits every array up to the next chunk boundary past <paramref name="pfnEnd"/> in one call per
    /// array: the frames the buddy allocator hands out are touched soon after, and a host page fault
    /// per 4 KiB of each array cost about a quarter of a 64K fault's time.
    /// </summary>
    void PopulateTo(long pfnEnd)
    {
        long to = Math.Min((pfnEnd + PopulateChunk - 1) & ~(PopulateChunk - 1), TotalPages);
        long from = _populated;
        long region = Align(TotalPages), wide = Align(TotalPages * 4);
        foreach (var (start, size) in new[] { (0L, 1), (region, 1), (2 * region, 1), (3 * region, 4), (3 * region + wide, 4) })
        {
            long a = start + (from * size & ~4095L), b = start + Align(to * size);
            _memory.Populate(a, b - a);
        }
        _populated = to;
    }

    // Every method that reads or writes the host block ends with GC.KeepAlive(this): the block is
    // unmapped when this map is finalized, which must never happen while an access is under way.
    byte FrameByte(int pfn) { CheckPfn(pfn); byte b = _frame[pfn]; GC.KeepAlive(this); return b; }

    [Conditional("DEBUG")]
    void CheckPfn(long pfn, long n = 1) => System.Diagnostics.Debug.Assert(pfn >= 0 && pfn + n <= _highWater, $"PFN {pfn:x}+{n} outside the used frames");

    public PageKind Kind(int pfn) => (PageKind)(FrameByte(pfn) >> 4);
    public int Order(int pfn) => FrameByte(pfn) & 0xF;
    public int HeadOf(int pfn) => pfn & ~((1 << Order(pfn)) - 1);

    /// <summary>Whether every page of [from, end) has the kind and order of the page at <paramref name="from"/>.</summary>
    internal bool SameFrames(int from, int end)
    {
        CheckPfn(from, end - from);
        var frames = new ReadOnlySpan<byte>(_frame + from, end - from);
        bool same = frames.IndexOfAnyExcept(frames[0]) < 0;
        GC.KeepAlive(this);
        return same;
    }

    /// <summary>Whether any page of [from, end) has a flag of <paramref name="mask"/>.</summary>
    internal bool AnyFlag(int from, int end, PageFlags mask)
    {
        CheckPfn(from, end - from);
        var flags = new ReadOnlySpan<byte>(_flags + from, end - from);
        var m = new Vector<byte>((byte)mask);
        int i = 0;
        bool any = false;
        for (; i + Vector<byte>.Count <= flags.Length && !any; i += Vector<byte>.Count)
            any = (new Vector<byte>(flags[i..]) & m) != Vector<byte>.Zero;
        for (; i < flags.Length && !any; i++) any = (flags[i] & (byte)mask) != 0;
        GC.KeepAlive(this);
        return any;
    }

    /// <summary>The first PFN of [from, end) whose PTE mapcount is not zero, or end.</summary>
    internal int NextPteMapped(int from, int end)
    {
        CheckPfn(from, end - from);
        int at = new ReadOnlySpan<byte>(_mapcount + from, end - from).IndexOfAnyExcept((byte)0);
        GC.KeepAlive(this);
        return at < 0 ? end : from + at;
    }

    /// <summary>The first PFN of [from, end) whose page is not free (kind above FreeHead), or end: free memory skipped a vector at a time.</summary>
    internal int NextNotFree(int from, int end)
    {
        CheckPfn(from, end - from);
        int at = new ReadOnlySpan<byte>(_frame + from, end - from).IndexOfAnyInRange((byte)((int)PageKind.Anon << 4), byte.MaxValue);
        GC.KeepAlive(this);
        return at < 0 ? end : from + at;
    }
    /// <summary>The first PFN of [from, end) whose page is not a free block's tail, or end: a vector at a time.</summary>
    internal int NextNotFreeTail(int from, int end)
    {
        CheckPfn(from, end - from);
        int at = new ReadOnlySpan<byte>(_frame + from, end - from).IndexOfAnyInRange((byte)((int)PageKind.FreeHead << 4), byte.MaxValue);
        GC.KeepAlive(this);
        return at < 0 ? end : from + at;
    }

    /// <summary>How many pages from <paramref name="from"/> on (at most <paramref name="n"/>) have its kind and order: a vector at a time.</summary>
    internal int SameFramePrefix(int from, int n)
    {
        CheckPfn(from, n);
        var frames = new ReadOnlySpan<byte>(_frame + from, n);
        int at = n == 0 ? -1 : frames.IndexOfAnyExcept(frames[0]);
        GC.KeepAlive(this);
        return at < 0 ? n : at;
    }

    /// <summary>How many pages from <paramref name="pfn"/> on hold the tokens of <paramref name="want"/> in turn (empty: zeroes, for up to <paramref name="n"/> pages).</summary>
    internal int ContentPrefix(int pfn, ReadOnlySpan<uint> want, int n)
    {
        CheckPfn(pfn, n);
        var got = new ReadOnlySpan<uint>(_content + pfn, n);
        int same = want.IsEmpty ? (got.IndexOfAnyExcept(0u) is var at and >= 0 ? at : n) : got.CommonPrefixLength(want[..n]);
        GC.KeepAlive(this);
        return same;
    }

    /// <summary>Kind and order in one read (every page of a folio carries both).</summary>
    internal (PageKind Kind, int Order) KindAndOrder(int pfn) { byte b = FrameByte(pfn); return ((PageKind)(b >> 4), b & 0xF); }
    public int Refcount(int head) { CheckPfn(head); int r = _refcount[head]; GC.KeepAlive(this); return r; }
    public uint Content(int pfn) { CheckPfn(pfn); uint c = _content[pfn]; GC.KeepAlive(this); return c; }
    public bool IsLarge(int head) => Order(head) > 0;
    /// <summary>The content tokens of the pages from <paramref name="pfn"/> on, into <paramref name="dst"/>.</summary>
    public void ContentsOf(int pfn, Span<uint> dst)
    {
        CheckPfn(pfn, dst.Length);
        new ReadOnlySpan<uint>(_content + pfn, dst.Length).CopyTo(dst);
        GC.KeepAlive(this);
    }

    public int PteMapcount(int pfn)
    {
        CheckPfn(pfn);
        byte m = _mapcount[pfn];
        GC.KeepAlive(this);
        return m != MapcountAside ? m : _mapcountAside[pfn];
    }

    public bool Test(int pfn, PageFlags f) { CheckPfn(pfn); bool t = (_flags[pfn] & (byte)f) != 0; GC.KeepAlive(this); return t; }
    public void Set(int pfn, PageFlags f) { CheckPfn(pfn); _flags[pfn] |= (byte)f; GC.KeepAlive(this); }
    public void Clear(int pfn, PageFlags f) { CheckPfn(pfn); _flags[pfn] &= (byte)~f; GC.KeepAlive(this); }

    /// <summary>Sets a flag on every page of [pfn, pfn + n).</summary>
    internal void SetRange(int pfn, int n, PageFlags f)
    {
        CheckPfn(pfn, n);
        byte* p = _flags + pfn;
        if (n == 1) { *p |= (byte)f; GC.KeepAlive(this); return; }   // an order-0 folio
        int i = 0;
        var bits = new Vector<byte>((byte)f);
        for (; i + Vector<byte>.Count <= n; i += Vector<byte>.Count)
            Unsafe.WriteUnaligned(p + i, Unsafe.ReadUnaligned<Vector<byte>>(p + i) | bits);
        for (; i < n; i++) p[i] |= (byte)f;
        GC.KeepAlive(this);
    }

    /// <summary>Clears a flag on every page of [pfn, pfn + n).</summary>
    internal void ClearRange(int pfn, int n, PageFlags f)
    {
        CheckPfn(pfn, n);
        byte* p = _flags + pfn;
        byte keep = (byte)~f;
        int i = 0;
        var mask = new Vector<byte>(keep);
        for (; i + Vector<byte>.Count <= n; i += Vector<byte>.Count)
            Unsafe.WriteUnaligned(p + i, Unsafe.ReadUnaligned<Vector<byte>>(p + i) & mask);
        for (; i < n; i++) p[i] &= keep;
        GC.KeepAlive(this);
    }

    // The first tail's slot tells where the record is: InlineRecord (in the tails' slots from the
    // second on), a side-table slot S as ~S, or (zero or more) the first word of a packed record
    // whose other eight bytes are the second and third tails' slots.

    /// <summary>The large-folio fields of a folio of order >= 1: a copy, which <see cref="SetLarge"/> stores back.</summary>
    public LargeFolioInfo Large(int head)
    {
        CheckPfn(head, 2);
        ref var whole = ref WholeRecord(head);
        LargeFolioInfo lf = Unsafe.IsNullRef(ref whole) ? PackedLargeFolioInfo.Unpack(_refcount[head + 1], *(ulong*)(_refcount + head + 2)) : whole;
        GC.KeepAlive(this);
        return lf;
    }

    /// <summary>
    /// The record of a folio of order <see cref="InlineLargeOrder"/> or more (every folio a PMD can
    /// map), in place in its tail pages: changed there, without the copies <see cref="Large"/> and
    /// <see cref="SetLarge"/> make. A null reference for a smaller folio, whose record may be packed.
    /// </summary>
    internal ref LargeFolioInfo LargeInPlace(int head)
    {
        if (Order(head) < InlineLargeOrder) return ref Unsafe.NullRef<LargeFolioInfo>();
        ref var lf = ref Unsafe.AsRef<LargeFolioInfo>(_refcount + head + 2);
        GC.KeepAlive(this);
        return ref lf;
    }

    /// <summary>Stores a folio's large-folio fields: packed when they fit (the side-table slot, if any, given back), else whole.</summary>
    internal void SetLarge(int head, in LargeFolioInfo lf)
    {
        CheckPfn(head, 2);
        int word = _refcount[head + 1];
        if (word == InlineRecord) Unsafe.AsRef<LargeFolioInfo>(_refcount + head + 2) = lf;
        else if (Order(head) >= PackedLargeOrder && PackedLargeFolioInfo.TryPack(lf, out int packed, out ulong bits))
        {
            if (word < 0) _freeLarge.Push(~word);
            _refcount[head + 1] = packed;
            *(ulong*)(_refcount + head + 2) = bits;
        }
        else
        {
            if (word >= 0 && Order(head) >= PackedLargeOrder)
            {
                *(ulong*)(_refcount + head + 2) = 0;   // the tails' slots read zero again
                word = ~TakeLargeSlot();
                _refcount[head + 1] = word;
            }
            SideRecord(~word) = lf;
        }
        GC.KeepAlive(this);
    }

    /// <summary>The anon_vma of a folio of order >= 1 (0: none), read where the record lies, without copying it.</summary>
    internal int LargeAnonVma(int head)
    {
        CheckPfn(head, 2);
        ref var whole = ref WholeRecord(head);
        int a = Unsafe.IsNullRef(ref whole) ? PackedLargeFolioInfo.AnonVma(_refcount[head + 1]) : whole.AnonVma;
        GC.KeepAlive(this);
        return a;
    }

    /// <summary>The FOLL_PIN count of a folio of order >= 1 (folio_maybe_dma_pinned() reads it; a packed record has none), without copying the record.</summary>
    internal int LargePincount(int head)
    {
        CheckPfn(head, 2);
        ref var whole = ref WholeRecord(head);
        int n = Unsafe.IsNullRef(ref whole) ? 0 : whole.Pincount;
        GC.KeepAlive(this);
        return n;
    }

    /// <summary>A record kept whole (in the tails, or in the side table) where it lies; a null reference for a packed one.</summary>
    ref LargeFolioInfo WholeRecord(int head)
    {
        int word = _refcount[head + 1];
        if (word == InlineRecord) return ref Unsafe.AsRef<LargeFolioInfo>(_refcount + head + 2);
        if (word < 0) return ref SideRecord(~word);
        return ref Unsafe.NullRef<LargeFolioInfo>();
    }

    /// <summary>Adds to a large folio's FOLL_PIN count (folio->_pincount).</summary>
    internal void AddPincount(int head, int n)
    {
        var lf = Large(head);
        lf.Pincount += n;
        SetLarge(head, lf);
    }

    ref LargeFolioInfo SideRecord(int slot) => ref _large[slot >> LargeChunkShift][slot & ((1 << LargeChunkShift) - 1)];

    int TakeLargeSlot() => _freeLarge.Count > 0 ? _freeLarge.Pop() : NewLargeSlot();

    static MemMap()
    {
        // the inline record must fit in the refcount slots of an order-InlineLargeOrder folio's tails after the first
        if (Unsafe.SizeOf<LargeFolioInfo>() > ((1 << InlineLargeOrder) - 2) * sizeof(int))
            throw new InvalidOperationException($"LargeFolioInfo is {Unsafe.SizeOf<LargeFolioInfo>()} bytes: too large to keep in tail pages");
    }

    /// <summary>Gives a new folio of order >= 1 its large-folio record, zeroed but for the deferred-split links.</summary>
    void NewLargeRecord(int head, int order)
    {
        var empty = new LargeFolioInfo { DeferredPrev = -1, DeferredNext = -1 };
        if (order >= InlineLargeOrder)
        {
            _refcount[head + 1] = InlineRecord;
            Unsafe.AsRef<LargeFolioInfo>(_refcount + head + 2) = empty;
        }
        else if (order >= PackedLargeOrder)
        {
            // the empty record, packed: all zeroes
            _refcount[head + 1] = 0;
            *(ulong*)(_refcount + head + 2) = 0;
        }
        else
        {
            int slot = TakeLargeSlot();
            _refcount[head + 1] = ~slot;
            SideRecord(slot) = empty;
        }
        GC.KeepAlive(this);
    }

    /// <summary>Gives back the side-table slot of a folio of order >= 1, if it has one (the caller clears the tails' slots).</summary>
    void DropLargeRecord(int head)
    {
        int word = _refcount[head + 1];
        GC.KeepAlive(this);
        if (word < 0 && word != InlineRecord) _freeLarge.Push(~word);
    }

    /// <summary>models folio_entire_mapcount(): only a folio that a PMD can map has one to keep.</summary>
    public int EntireMapcount(int head)
    {
        if (Order(head) == 0) return 0;
        CheckPfn(head, 2);
        ref var whole = ref WholeRecord(head);
        int e = Unsafe.IsNullRef(ref whole) ? 0 : whole.EntireMapcount;   // a packed record has none
        GC.KeepAlive(this);
        return e;
    }

    /// <summary>models folio_precise_page_mapcount(): PTE mappings of the page plus PMD mappings of its folio.</summary>
    public int PageMapcount(int pfn) => PteMapcount(pfn) + EntireMapcount(HeadOf(pfn));

    /// <summary>models folio_mapcount(): for a large folio the one counter the kernel keeps (folio_large_mapcount()).</summary>
    public int FolioMapcount(int head)
    {
        if (Order(head) == 0) return PteMapcount(head);
        CheckPfn(head, 2);
        ref var whole = ref WholeRecord(head);
        int m = Unsafe.IsNullRef(ref whole) ? PackedLargeFolioInfo.LargeMapcount(*(ulong*)(_refcount + head + 2)) : whole.LargeMapcount;
        GC.KeepAlive(this);
        return m;
    }

    /// <summary>Every PTE mapping of every page plus every PMD mapping, recounted page by page (for the invariant checker).</summary>
    public int FolioMapcountRecount(int head)
    {
        int order = Order(head);
        if (order == 0) return PteMapcount(head);
        int n = Large(head).EntireMapcount;
        int end = head + (1 << order);
        for (int p = head; p < end; p++) n += PteMapcount(p);
        return n;
    }

    /// <summary>Marks [head, head+2^order) as one folio of <paramref name="kind"/>: zeroed, refcount 1, unmapped.</summary>
    internal void InitFolio(int head, int order, PageKind kind)
    {
        int n = 1 << order;
        CheckPfn(head, n);
        if (order == 0)
        {
            // most folios: four stores, not four span operations
            _frame[head] = (byte)((int)kind << 4);
            _flags[head] = 0;
            _mapcount[head] = 0;
            _content[head] = 0;
            if (_mapcountAside.Count > 0) _mapcountAside.Remove(head);
            _refcount[head] = 1;
            GC.KeepAlive(this);
            return;
        }
        FillBytes(_frame + head, n, (byte)((int)kind << 4 | order));
        FillBytes(_flags + head, n, 0);
        FillBytes(_mapcount + head, n, 0);
        FillBytes((byte*)(_content + head), n * sizeof(uint), 0);
        if (_mapcountAside.Count > 0) ForgetAside(head, n);
        _refcount[head] = 1;
        GC.KeepAlive(this);
        if (order > 0) NewLargeRecord(head, order);
    }

    /// <summary><see cref="InitFolio"/> of order 0 for each frame of [pfn, pfn + n), a span at a time.</summary>
    internal void InitSmallFolios(int pfn, int n, PageKind kind)
    {
        CheckPfn(pfn, n);
        if (n == 1)
        {
            // one folio (a single fault's): plain stores, not five span operations
            (_frame[pfn], _flags[pfn], _mapcount[pfn], _content[pfn], _refcount[pfn]) = ((byte)((int)kind << 4), 0, 0, 0, 1);
            if (_mapcountAside.Count > 0) ForgetAside(pfn, 1);
            GC.KeepAlive(this);
            return;
        }
        new Span<byte>(_frame + pfn, n).Fill((byte)((int)kind << 4));
        new Span<byte>(_flags + pfn, n).Clear();
        new Span<byte>(_mapcount + pfn, n).Clear();
        new Span<uint>(_content + pfn, n).Clear();
        if (_mapcountAside.Count > 0) ForgetAside(pfn, n);
        new Span<int>(_refcount + pfn, n).Fill(1);
        GC.KeepAlive(this);
    }

    /// <summary>Sets N bytes at P to V: the few bytes of a small folio in one or two stores, more as a span.</summary>
    static void FillBytes(byte* p, int n, byte v)
    {
        ulong pattern = v * 0x0101010101010101UL;
        switch (n)
        {
            case 2: Unsafe.WriteUnaligned(p, (ushort)pattern); break;
            case 4: Unsafe.WriteUnaligned(p, (uint)pattern); break;
            case 8: Unsafe.WriteUnaligned(p, pattern); break;
            case 16: Unsafe.WriteUnaligned(p, pattern); Unsafe.WriteUnaligned(p + 8, pattern); break;
            case 32: Unsafe.WriteUnaligned(p, Vector256.Create(v)); break;
            default: new Span<byte>(p, n).Fill(v); break;
        }
    }

    void ForgetAside(int pfn, int n)
    {
        for (int p = pfn; p < pfn + n; p++) _mapcountAside.Remove(p);
    }

    /// <summary>Large-folio records ever handed out (free ones are reused before a new one is taken).</summary>
    internal int LargeRecordsUsed => _largeUsed;
    /// <summary>Side-table records held now (by folios whose record is not inline or packed).</summary>
    internal int LargeRecordsInUse => _largeUsed - _freeLarge.Count;

    int NewLargeSlot()
    {
        if (_largeUsed == _large.Count << LargeChunkShift) _large.Add(new LargeFolioInfo[1 << LargeChunkShift]);
        return _largeUsed++;
    }

    /// <summary>Releases the large-folio slot before the pages go back to the buddy allocator.</summary>
    internal void ReleaseFolio(int head)
    {
        int order = Order(head);
        if (order > 0) { ReleaseLargeFolioOutOfLine(head, order); return; }
        _refcount[head] = 0;
        GC.KeepAlive(this);
    }

    /// <summary><see cref="ReleaseFolio"/> of each order-0 folio at [pfn, pfn + n).</summary>
    internal void ReleaseSmallFolios(int pfn, int n)
    {
        CheckPfn(pfn, n);
        new Span<int>(_refcount + pfn, n).Clear();
        GC.KeepAlive(this);
    }

    // Kept out of ReleaseFolio, which order-0 frees in runs call for every page.
    [MethodImpl(MethodImplOptions.NoInlining)]
    void ReleaseLargeFolioOutOfLine(int head, int order) => ReleaseLargeFolio(head, order);

    /// <summary><see cref="ReleaseFolio"/> of a folio of order >= 1, whose order the caller knows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ReleaseLargeFolio(int head, int order)
    {
        _refcount[head] = 0;
        DropLargeRecord(head);
        // the tails' slots read zero again (an inline or packed record is in them)
        if (order < PackedLargeOrder) _refcount[head + 1] = 0;
        else if (order < InlineLargeOrder) new Span<int>(_refcount + head + 1, 3).Clear();
        else if (Unsafe.SizeOf<LargeFolioInfo>() <= 14 * sizeof(int))
        {
            // slots 1 to 15, all the folio's: two overlapping stores of eight
            Unsafe.WriteUnaligned(_refcount + head + 1, Vector256<int>.Zero);
            Unsafe.WriteUnaligned(_refcount + head + 8, Vector256<int>.Zero);
        }
        else new Span<int>(_refcount + head + 1, 1 + Unsafe.SizeOf<LargeFolioInfo>() / sizeof(int)).Clear();
        GC.KeepAlive(this);
    }

    /// <summary>Gives every page of a folio a new kind (a shmem folio leaving the page cache for the swap cache, or back).</summary>
    internal void SetFolioKind(int head, PageKind kind)
    {
        int order = Order(head);
        new Span<byte>(_frame + head, 1 << order).Fill((byte)((int)kind << 4 | order));
        GC.KeepAlive(this);
    }

    /// <summary>Turns one large folio into order-0 folios in place (the bookkeeping half of __split_unmapped_folio).</summary>
    internal void SplitToOrder0(int head)
    {
        int order = Order(head);
        DropLargeRecord(head);
        int n = 1 << order;
        byte kindOnly = (byte)(_frame[head] & 0xF0);
        new Span<byte>(_frame + head, n).Fill(kindOnly);
        // Each new folio inherits the swap-backed and dirty state (__split_folio_to_order()).
        byte inherited = (byte)(_flags[head] & (byte)(PageFlags.LazyFree | PageFlags.Dirty | PageFlags.Referenced | PageFlags.Active));
        for (int p = head; p < head + n; p++)
            _flags[p] = (byte)((_flags[p] & 0x0F) | inherited);
        new Span<int>(_refcount + head, n).Clear();
        GC.KeepAlive(this);
    }

    /// <summary>
    /// Turns one unmapped large folio into the given pieces (the bookkeeping half of a non-uniform
    /// __split_unmapped_folio()): each piece is a folio of its order holding one reference per page
    /// (the page cache's) and the head's dirty and LRU state.
    /// </summary>
    internal void SplitNonUniform(int head, List<(int Head, int Order)> pieces)
    {
        DropLargeRecord(head);
        byte kindOnly = (byte)(_frame[head] & 0xF0);
        byte inherited = (byte)(_flags[head] & (byte)(PageFlags.Dirty | PageFlags.Referenced | PageFlags.Active));
        GC.KeepAlive(this);
        foreach (var (ph, po) in pieces)
        {
            int n = 1 << po;
            new Span<byte>(_frame + ph, n).Fill((byte)(kindOnly | po));
            for (int p = ph; p < ph + n; p++) _flags[p] = (byte)(_flags[p] & 0x0F & ~(byte)(PageFlags.Referenced | PageFlags.Active));
            _flags[ph] |= inherited;
            new Span<int>(_refcount + ph, n).Clear();
            _refcount[ph] = n;
            GC.KeepAlive(this);
            if (po > 0) NewLargeRecord(ph, po);
        }
    }

    /// <summary>
    /// Moves a folio's per-page state to the free frames at DST (migration's copy of the page
    /// contents and of struct page): kind, order, flags, PTE mapcounts, refcount, contents and the
    /// large-folio record. SRC is left with nothing mapped or counted, for the caller to free.
    /// </summary>
    internal void MoveFolio(int src, int dst)
    {
        int n = 1 << Order(src);
        CheckPfn(src, n);
        CheckPfn(dst, n);
        new Span<byte>(_frame + src, n).CopyTo(new Span<byte>(_frame + dst, n));
        new Span<byte>(_flags + src, n).CopyTo(new Span<byte>(_flags + dst, n));
        new Span<byte>(_mapcount + src, n).CopyTo(new Span<byte>(_mapcount + dst, n));
        new Span<uint>(_content + src, n).CopyTo(new Span<uint>(_content + dst, n));
        new Span<int>(_refcount + src, n).CopyTo(new Span<int>(_refcount + dst, n));
        if (_mapcountAside.Count > 0)
            for (int i = 0; i < n; i++)
                if (_mapcountAside.Remove(src + i, out int v)) _mapcountAside[dst + i] = v;
        new Span<byte>(_flags + src, n).Clear();
        new Span<byte>(_mapcount + src, n).Clear();
        new Span<uint>(_content + src, n).Clear();
        new Span<int>(_refcount + src, n).Clear();
        GC.KeepAlive(this);
    }

    public void SetContent(int pfn, uint token) { CheckPfn(pfn); _content[pfn] = token; GC.KeepAlive(this); }

    /// <summary>Gives pages [pfn, pfn + n) the tokens first, first + 1, ... (one store per page, in order).</summary>
    internal void SetContentRun(int pfn, int n, uint first)
    {
        CheckPfn(pfn, n);
        ContentTokens.FillSequence(new Span<uint>(_content + pfn, n), first);
        GC.KeepAlive(this);
    }

    internal void AddRef(int head, int n) { CheckPfn(head); _refcount[head] += n; GC.KeepAlive(this); }

    /// <summary>Adds <paramref name="delta"/> to the refcount of each of the order-0 folios at [pfn, pfn + n).</summary>
    internal void AddRefRun(int pfn, int n, int delta)
    {
        CheckPfn(pfn, n);
        var refs = new Span<int>(_refcount + pfn, n);
        int i = 0;
        var step = Vector128.Create(delta);
        for (; i + 4 <= n; i += 4) Vector128.Store(Vector128.Load(_refcount + pfn + i) + step, _refcount + pfn + i);
        for (; i < n; i++) refs[i] += delta;
        GC.KeepAlive(this);
    }

    /// <summary>
    /// Whether the frame is an order-0 anonymous folio, and with <paramref name="mapped"/>: one that two
    /// PTEs or more map, with as many references (<see cref="SmallMapped.Shared"/>), or one PTE and
    /// one reference (<see cref="SmallMapped.Exclusive"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsSmallAnon(int pfn, SmallMapped mapped)
    {
        CheckPfn(pfn);
        bool small = _frame[pfn] == (byte)((int)PageKind.Anon << 4) && mapped switch
        {
            SmallMapped.Shared => _mapcount[pfn] is >= 2 and < MapcountAside && _refcount[pfn] >= 2,
            SmallMapped.Exclusive => _mapcount[pfn] == 1 && _refcount[pfn] == 1,
            _ => true,
        };
        GC.KeepAlive(this);
        return small;
    }

    /// <summary>How many frames from <paramref name="pfn"/> (at most <paramref name="n"/>) pass <see cref="IsSmallAnon"/>, each array scanned a vector at a time.</summary>
    internal int SmallAnonPrefix(int pfn, int n, SmallMapped mapped)
    {
        CheckPfn(pfn, n);
        n = Prefix(new ReadOnlySpan<byte>(_frame + pfn, n).IndexOfAnyExcept((byte)((int)PageKind.Anon << 4)), n);
        if (mapped == SmallMapped.Shared)
        {
            n = Prefix(new ReadOnlySpan<byte>(_mapcount + pfn, n).IndexOfAnyExceptInRange((byte)2, (byte)(MapcountAside - 1)), n);
            n = Prefix(new ReadOnlySpan<int>(_refcount + pfn, n).IndexOfAnyExceptInRange(2, int.MaxValue), n);
        }
        else if (mapped == SmallMapped.Exclusive)
        {
            n = Prefix(new ReadOnlySpan<byte>(_mapcount + pfn, n).IndexOfAnyExcept((byte)1), n);
            n = Prefix(new ReadOnlySpan<int>(_refcount + pfn, n).IndexOfAnyExcept(1), n);
        }
        GC.KeepAlive(this);
        return n;

        static int Prefix(int firstFailing, int n) => firstFailing < 0 ? n : firstFailing;
    }

    internal void AddPteMapcount(int pfn, int n)
    {
        CheckPfn(pfn);
        byte m = _mapcount[pfn];
        int v = (m != MapcountAside ? m : _mapcountAside[pfn]) + n;
        if ((uint)v < MapcountAside)
        {
            _mapcount[pfn] = (byte)v;
            if (m == MapcountAside) _mapcountAside.Remove(pfn);
        }
        else
        {
            _mapcount[pfn] = MapcountAside;
            _mapcountAside[pfn] = v;
        }
        GC.KeepAlive(this);
    }


    /// <summary>Adds one PTE mapping to each page of [pfn, pfn + n); returns how many had none before.</summary>
    internal int AddPteMapcountRun(int pfn, int n) => AdjustPteMapcountRun(pfn, n, +1);

    /// <summary>One PTE mapping for each page of a new folio's [pfn, pfn + n), which had none (InitFolio cleared them).</summary>
    internal void MapNewFolioPages(int pfn, int n)
    {
        CheckPfn(pfn, n);
        System.Diagnostics.Debug.Assert(new ReadOnlySpan<byte>(_mapcount + pfn, n).IndexOfAnyExcept((byte)0) < 0, "a new folio's page is mapped already");
        FillBytes(_mapcount + pfn, n, 1);
        GC.KeepAlive(this);
    }

    /// <summary>Whether every page of [pfn, pfn + n) is mapped by exactly one PTE: a vector at a time.</summary>
    internal bool OnePteMappingEach(int pfn, int n)
    {
        CheckPfn(pfn, n);
        const ulong ones = 0x0101010101010101UL;
        bool one;
        if ((n & 7) == 0)
        {
            // eight counts at a time: a large folio's are a multiple of eight from order 3 on
            ulong differ = 0;
            for (int i = 0; i < n; i += 8) differ |= Unsafe.ReadUnaligned<ulong>(_mapcount + pfn + i) ^ ones;
            one = differ == 0;
        }
        else one = new ReadOnlySpan<byte>(_mapcount + pfn, n).IndexOfAnyExcept((byte)1) < 0;
        GC.KeepAlive(this);
        return one;
    }

    /// <summary>Removes the one PTE mapping of each page of [pfn, pfn + n) (<see cref="OnePteMappingEach"/> held).</summary>
    internal void UnmapOnlyPtes(int pfn, int n)
    {
        CheckPfn(pfn, n);
        System.Diagnostics.Debug.Assert(new ReadOnlySpan<byte>(_mapcount + pfn, n).IndexOfAnyExcept((byte)1) < 0, "a page is not mapped exactly once");
        new Span<byte>(_mapcount + pfn, n).Clear();
        GC.KeepAlive(this);
    }

    /// <summary>Removes one PTE mapping from each page of [pfn, pfn + n); returns how many have none left.</summary>
    internal int SubPteMapcountRun(int pfn, int n) => AdjustPteMapcountRun(pfn, n, -1);

    /// <summary>Adds <paramref name="delta"/> (±1) to each page's count; returns how many pages crossed between none and one mapping.</summary>
    int AdjustPteMapcountRun(int pfn, int n, int delta)
    {
        CheckPfn(pfn, n);
        int crossed = 0, edge = delta > 0 ? 1 : 0;
        byte* m = _mapcount + pfn;
        var counts = new Span<byte>(m, n);
        // Sixteen pages or more, and no count leaves the byte's range (none at 254 or the side-table
        // mark going up, none at 0 or the mark going down): every byte moves by delta, a vector at a time.
        if (n >= 16 && (delta > 0 ? !counts.ContainsAnyInRange((byte)(MapcountAside - 1), MapcountAside) : !counts.ContainsAny((byte)0, MapcountAside)))
        {
            crossed = counts.Count((byte)(edge - delta));
            var step = Vector128.Create((byte)delta);
            int i = 0;
            for (; i + 16 <= n; i += 16)
                Vector128.Store(Vector128.Load(m + i) + step, m + i);
            for (; i < n; i++) m[i] = (byte)(m[i] + delta);
            GC.KeepAlive(this);
            return crossed;
        }
        for (int i = 0; i < n; i++)
        {
            byte b = m[i];
            int v = b + delta;
            if (b != MapcountAside && (uint)v < MapcountAside) m[i] = (byte)v;
            else
            {
                AddPteMapcount(pfn + i, delta);
                v = PteMapcount(pfn + i);
            }
            if (v == edge) crossed++;
        }
        GC.KeepAlive(this);
        return crossed;
    }

    // The buddy allocator's view of a frame: a free block's head carries the block's order.
    internal bool IsFreeHead(int pfn, int order) => FrameByte(pfn) == (byte)((int)PageKind.FreeHead << 4 | order);
    internal void SetFreeHead(int pfn, int order) { CheckPfn(pfn); _frame[pfn] = (byte)((int)PageKind.FreeHead << 4 | order); GC.KeepAlive(this); }
    internal void SetFreeTail(int pfn) { CheckPfn(pfn); _frame[pfn] = (byte)PageKind.FreeTail << 4; GC.KeepAlive(this); }
    internal void SetFreeTails(int pfn, int n) { CheckPfn(pfn, n); new Span<byte>(_frame + pfn, n).Fill((byte)PageKind.FreeTail << 4); GC.KeepAlive(this); }
}

/// <summary>How an order-0 folio in a run must be mapped (<see cref="MemMap.IsSmallAnon"/>).</summary>
internal enum SmallMapped : byte { Any, Shared, Exclusive }
