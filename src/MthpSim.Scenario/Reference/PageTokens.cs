namespace MthpSim.Scenario.Reference;

/// <summary>
/// What a program must read in each page of a space of page numbers (a process's virtual pages, or
/// a file's page indexes): a store token, 0 for zeroes. Kept in blocks of 512 pages, so that a range
/// or a comparison of a run costs a lookup per block, not per page.
/// </summary>
sealed class PageTokens
{
    const int BlockShift = 9, BlockPages = 1 << BlockShift;
    readonly Dictionary<ulong, uint[]> _blocks = new();
    // Page-by-page reads mostly stay in one block. Blocks are never removed, so this stays valid.
    ulong _lastKey = ulong.MaxValue;
    uint[]? _last;

    public PageTokens Clone()
    {
        var c = new PageTokens();
        foreach (var (key, pages) in _blocks) c._blocks[key] = (uint[])pages.Clone();
        return c;
    }

    /// <summary>Pages a run from <paramref name="page"/> may take without leaving its block (runs compare a block at a time).</summary>
    public static int InBlock(ulong page) => BlockPages - (int)(page & (BlockPages - 1));

    uint[]? Block(ulong key)
    {
        if (key == _lastKey) return _last;
        if (!_blocks.TryGetValue(key, out var b)) return null;
        (_lastKey, _last) = (key, b);
        return b;
    }

    /// <summary>The tokens of n pages from page, inside one block; empty when the block holds nothing (all zeroes).</summary>
    public ReadOnlySpan<uint> Run(ulong page, int n) =>
        Block(page >> BlockShift) is { } b ? b.AsSpan((int)(page & (BlockPages - 1)), n) : default;

    public uint Get(ulong page) => Block(page >> BlockShift) is { } b ? b[(int)(page & (BlockPages - 1))] : 0;

    public void Set(ulong page, uint token)
    {
        ulong key = page >> BlockShift;
        var b = Block(key);
        if (b == null)
        {
            if (token == 0) return;
            _blocks[key] = b = new uint[BlockPages];
            (_lastKey, _last) = (key, b);
        }
        b[(int)(page & (BlockPages - 1))] = token;
    }

    /// <summary>Applies f to the token of every page of [start, end) that holds one.</summary>
    public void Update(ulong start, ulong end, Func<uint, uint> f)
    {
        if (end <= start) return;
        // A range wider than what holds tokens is visited through the blocks that exist.
        if ((end - start) >> BlockShift > (ulong)_blocks.Count)
        {
            foreach (ulong key in _blocks.Keys.Where(k => k << BlockShift < end && start < (k + 1) << BlockShift).Order().ToList())
                Update(Math.Max(start, key << BlockShift), Math.Min(end, (key + 1) << BlockShift), f);
            return;
        }
        for (ulong page = start; page < end;)
        {
            ulong blockEnd = Math.Min(end, ((page >> BlockShift) + 1) << BlockShift);
            if (Block(page >> BlockShift) is { } b)
                for (ulong p = page; p < blockEnd; p++)
                {
                    ref uint c = ref b[(int)(p & (BlockPages - 1))];
                    if (c != 0) c = f(c);
                }
            page = blockEnd;
        }
    }
}
