namespace MthpSim.Scenario.Reference;

/// <summary>
/// One process's memory as its program sees it, kept from the statements' semantics alone: which
/// virtual pages are mapped, and per page the content last stored there (zeroes where nothing was).
/// Page numbers are virtual addresses shifted by the page size.
/// </summary>
sealed class ReferenceProcess
{
    /// <summary>Set on content after MADV_FREE: the page may read either that content or zeroes.</summary>
    public const uint OldOrZero = 1u << 31;
    const int BlockShift = 9, BlockPages = 1 << BlockShift;

    // Mapped ranges [Start, End) of page numbers, sorted, disjoint, adjacent ones joined.
    List<(ulong Start, ulong End)> _mapped = new();
    // Content in blocks of pages (a missing block or entry 0: zeroes), so a range costs per block, not per page.
    readonly Dictionary<ulong, uint[]> _blocks = new();

    public IReadOnlyList<(ulong Start, ulong End)> Mapped => _mapped;

    public ReferenceProcess Clone()
    {
        var c = new ReferenceProcess { _mapped = new(_mapped) };
        foreach (var (b, pages) in _blocks) c._blocks[b] = (uint[])pages.Clone();
        return c;
    }

    /// <summary>Pages a run from <paramref name="page"/> may take without leaving its block (runs compare a block at a time).</summary>
    public static int InBlock(ulong page) => BlockPages - (int)(page & (BlockPages - 1));

    /// <summary>The content of n pages from page, inside one block; empty when the block holds nothing (all zeroes).</summary>
    public ReadOnlySpan<uint> Run(ulong page, int n) =>
        _blocks.TryGetValue(page >> BlockShift, out var b) ? b.AsSpan((int)(page & (BlockPages - 1)), n) : default;

    public uint Get(ulong page) => _blocks.TryGetValue(page >> BlockShift, out var b) ? b[(int)(page & (BlockPages - 1))] : 0;

    public void Set(ulong page, uint content)
    {
        ulong key = page >> BlockShift;
        if (!_blocks.TryGetValue(key, out var b))
        {
            if (content == 0) return;
            _blocks[key] = b = new uint[BlockPages];
        }
        b[(int)(page & (BlockPages - 1))] = content;
    }

    /// <summary>Whether any page of [start, end) is mapped.</summary>
    public bool AnyMapped(ulong start, ulong end) => _mapped.Any(r => r.Start < end && start < r.End);

    public bool IsMapped(ulong page) => _mapped.Any(r => r.Start <= page && page < r.End);

    /// <summary>The mapped parts of [start, end).</summary>
    public List<(ulong Start, ulong End)> MappedWithin(ulong start, ulong end) =>
        _mapped.Where(r => r.Start < end && start < r.End).Select(r => (Math.Max(r.Start, start), Math.Min(r.End, end))).ToList();

    /// <summary>A new mapping of zeroes over [start, end).</summary>
    public void Map(ulong start, ulong end)
    {
        Unmap(start, end);
        _mapped.Add((start, end));
        _mapped.Sort();
        var joined = new List<(ulong Start, ulong End)>();
        foreach (var r in _mapped)
            if (joined.Count > 0 && joined[^1].End == r.Start) joined[^1] = (joined[^1].Start, r.End);
            else joined.Add(r);
        _mapped = joined;
    }

    /// <summary>[start, end) is no longer mapped, and what it held is gone.</summary>
    public void Unmap(ulong start, ulong end)
    {
        var kept = new List<(ulong Start, ulong End)>();
        foreach (var r in _mapped)
        {
            if (r.End <= start || end <= r.Start) { kept.Add(r); continue; }
            if (r.Start < start) kept.Add((r.Start, start));
            if (end < r.End) kept.Add((end, r.End));
        }
        _mapped = kept;
        Zero(start, end);
    }

    /// <summary>Every page of [start, end) reads zeroes.</summary>
    public void Zero(ulong start, ulong end) => Update(start, end, _ => 0);

    /// <summary>Applies f to the content of every page of [start, end) that holds some.</summary>
    public void Update(ulong start, ulong end, Func<uint, uint> f)
    {
        if (end <= start) return;
        // A range wider than what holds content is visited through the blocks that exist.
        if ((end - start) >> BlockShift > (ulong)_blocks.Count)
        {
            foreach (ulong key in _blocks.Keys.Where(k => k << BlockShift < end && start < (k + 1) << BlockShift).Order().ToList())
                Update(Math.Max(start, key << BlockShift), Math.Min(end, (key + 1) << BlockShift), f);
            return;
        }
        for (ulong page = start; page < end;)
        {
            ulong blockEnd = Math.Min(end, ((page >> BlockShift) + 1) << BlockShift);
            if (_blocks.TryGetValue(page >> BlockShift, out var b))
                for (ulong p = page; p < blockEnd; p++)
                {
                    ref uint c = ref b[(int)(p & (BlockPages - 1))];
                    if (c != 0) c = f(c);
                }
            page = blockEnd;
        }
    }
}
