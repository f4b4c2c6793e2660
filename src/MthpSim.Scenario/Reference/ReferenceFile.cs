namespace MthpSim.Scenario.Reference;

/// <summary>
/// One shmem file's pages as the programs wrote them: page index to store token, 0 (or nothing) for
/// zeroes. Kept in blocks of pages so that comparing a run of pages costs a lookup per block.
/// </summary>
sealed class ReferenceFile
{
    const int BlockShift = 9, BlockPages = 1 << BlockShift;
    readonly Dictionary<long, uint[]> _blocks = new();
    // Runs of pages read the same block over and over.
    long _lastKey = -1;
    uint[]? _last;

    uint[]? Block(long key)
    {
        if (key == _lastKey) return _last;
        if (!_blocks.TryGetValue(key, out var b)) return null;
        (_lastKey, _last) = (key, b);
        return b;
    }

    public uint Get(long index) => Block(index >> BlockShift) is { } b ? b[index & (BlockPages - 1)] : 0;

    public void Set(long index, uint content)
    {
        long key = index >> BlockShift;
        var b = Block(key);
        if (b == null)
        {
            if (content == 0) return;
            _blocks[key] = b = new uint[BlockPages];
            (_lastKey, _last) = (key, b);
        }
        b[index & (BlockPages - 1)] = content;
    }

    /// <summary>Applies f to the content of every page of [first, end) that holds some.</summary>
    public void Update(long first, long end, Func<uint, uint> f)
    {
        foreach (var (key, b) in _blocks)
        {
            long lo = key << BlockShift;
            long from = Math.Max(first, lo) - lo, to = Math.Min(end - lo, BlockPages);
            for (long i = from; i < to; i++)
                if (b[i] != 0) b[i] = f(b[i]);
        }
    }
}
