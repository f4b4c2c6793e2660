namespace MthpSim.Core.Shmem;

/// <summary>
/// A shmem inode: a memfd or a shared anonymous mapping's file on the internal mount (Mount null), or
/// a file on a tmpfs mount. Holds its page cache, i_size, the pages it holds (i_blocks) and what a
/// program must read back from each page (the test oracle behind <c>intact</c> for shared mappings).
/// </summary>
public sealed class ShmemFile
{
    public int Id { get; }
    public string Name { get; }
    /// <summary>The tmpfs mount, or null for the internal shm_mnt (memfd, MAP_SHARED|MAP_ANONYMOUS).</summary>
    public TmpfsMount? Mount { get; }
    public PageCache Cache { get; }
    /// <summary>i_size in bytes.</summary>
    public long Size;
    /// <summary>Pages the file holds, past EOF included (shmem_inode_info.alloced; st_blocks).</summary>
    public long AllocedPages;
    /// <summary>mapping_large_folio_support(): set at creation when the superblock's huge= was not never; writes then go in PMD-sized chunks.</summary>
    public bool LargeFolios { get; init; }
    /// <summary>A MAP_SHARED|MAP_ANONYMOUS mapping's file (shmem_zero_setup()): freed with its last mapping.</summary>
    public bool AnonShared { get; init; }
    /// <summary>shmem_inode_info.fallocend: pages up to here are kept when a split drops pieces past EOF.</summary>
    public long FallocEnd;

    /// <summary>A fallocate under way (inode->i_private), or null.</summary>
    internal ShmemFalloc? Falloc;

    const int ChunkShift = 9;
    /// <summary>Last content written to each page (0: zeroes), in 512-page arrays made on first write.</summary>
    readonly Dictionary<long, uint[]> _expected = new();

    // The array last looked up: reads and writes page by page mostly stay in one. Arrays are never dropped.
    long _lastKey = -1;
    uint[]? _last;

    /// <summary>The 512-page array holding index's record (made if asked), or null.</summary>
    uint[]? Expected(long index, bool create)
    {
        long key = index >> ChunkShift;
        if (key == _lastKey) return _last;
        if (!_expected.TryGetValue(key, out var a))
        {
            if (!create) return null;
            _expected[key] = a = new uint[1 << ChunkShift];
        }
        (_lastKey, _last) = (key, a);
        return a;
    }

    /// <summary>What a program must read from page <paramref name="index"/>: the token of its last write, 0 for zeroes.</summary>
    public uint ExpectedContent(long index) => Expected(index, create: false) is { } a ? a[index & ((1 << ChunkShift) - 1)] : 0;

    /// <summary>
    /// <see cref="ExpectedContent"/> from <paramref name="index"/> on, at most <paramref name="max"/>
    /// pages and not past the end of its 512-page array (<paramref name="n"/>: how many the answer
    /// covers); empty where the file was never written there (zeroes).
    /// </summary>
    public ReadOnlySpan<uint> ExpectedRun(long index, int max, out int n)
    {
        int at = (int)(index & ((1 << ChunkShift) - 1));
        n = Math.Min(max, (1 << ChunkShift) - at);
        return Expected(index, create: false) is { } a ? a.AsSpan(at, n) : default;
    }

    /// <summary>Whether a page whose last write left content other than zeroes is neither cached nor swapped out (a hole).</summary>
    internal bool AnyWrittenHole()
    {
        foreach (var (chunk, a) in _expected)
            for (int i = 0; i < a.Length;)
            {
                var slots = Cache.Run((chunk << ChunkShift) + i, a.Length - i, out int n);
                for (int j = 0; j < n; j++)
                    if (a[i + j] != 0 && (slots.IsEmpty || slots[j] == 0)) return true;
                i += n;
            }
        return false;
    }

    /// <summary>Every page whose last write left content other than zeroes, in no particular order.</summary>
    internal IEnumerable<(long Index, uint Token)> WrittenPages()
    {
        foreach (var (chunk, a) in _expected)
            for (int i = 0; i < a.Length; i++)
                if (a[i] != 0) yield return ((chunk << ChunkShift) + i, a[i]);
    }

    /// <summary>Records writes of consecutive tokens from <paramref name="first"/> to pages [index, index + n); first 0 records zeroes.</summary>
    internal void RecordContent(long index, long n, uint first)
    {
        // a 512-page array at a time
        for (long i = 0; i < n;)
        {
            long at = index + i;
            int from = (int)(at & ((1 << ChunkShift) - 1)), m = (int)Math.Min(n - i, (1 << ChunkShift) - from);
            if (Expected(at, create: first != 0) is { } a)
            {
                var pages = a.AsSpan(from, m);
                if (first == 0) pages.Clear();
                else for (int j = 0; j < m; j++) pages[j] = first + (uint)(i + j);
            }
            i += m;
        }
    }

    public ShmemFile(int id, string name, TmpfsMount? mount, int pmdOrder)
    {
        Id = id;
        Name = name;
        Mount = mount;
        Cache = new PageCache(pmdOrder);
    }

    /// <summary>Whether the file lives on the internal mount, where the per-size shmem_enabled knobs apply to mappings.</summary>
    public bool OnInternalMount => Mount == null;

    public override string ToString() => Name;
}

/// <summary>struct shmem_falloc: how far a fallocate has come, which shmem_writeout() reads to leave its new folios alone.</summary>
internal sealed class ShmemFalloc(long start)
{
    public long Start { get; } = start;
    /// <summary>The index the fallocate has reached.</summary>
    public long Next = start;
    /// <summary>Pages it allocated (not uptodate).</summary>
    public long NrFalloced;
    /// <summary>Pages of those reclaim found and redirtied instead of swapping.</summary>
    public long NrUnswapped;
}
