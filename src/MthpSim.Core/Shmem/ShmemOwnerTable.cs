namespace MthpSim.Core.Shmem;

/// <summary>
/// The page cache's owner of each shmem folio, by head PFN (folio->mapping and folio->index): per-frame
/// slots in blocks of 512 frames, made when a block gets its first shmem folio and dropped when it has
/// none left, so a lookup is two array reads and no object is made per folio.
/// </summary>
sealed class ShmemOwnerTable(long totalPages)
{
    const int BlockShift = 9;
    const int BlockMask = (1 << BlockShift) - 1;

    sealed class Block
    {
        public readonly ShmemFile?[] Files = new ShmemFile?[1 << BlockShift];
        public readonly long[] Indexes = new long[1 << BlockShift];
        public int Used;
    }

    readonly Block?[] _blocks = new Block?[(totalPages + BlockMask) >> BlockShift];

    /// <summary>The file and first index of the shmem folio headed at <paramref name="head"/>; throws when it has none.</summary>
    public (ShmemFile File, long Index) this[int head] =>
        TryGet(head, out var f, out long index) ? (f, index) : throw new KeyNotFoundException($"PFN {head:x} heads no shmem folio in a page cache");

    public bool TryGet(int head, out ShmemFile file, out long index)
    {
        var b = _blocks[head >> BlockShift];
        int i = head & BlockMask;
        if (b?.Files[i] is { } f)
        {
            (file, index) = (f, b.Indexes[i]);
            return true;
        }
        (file, index) = (null!, 0);
        return false;
    }

    public bool Contains(int head) => _blocks[head >> BlockShift]?.Files[head & BlockMask] != null;

    public void Set(int head, ShmemFile file, long index)
    {
        var b = _blocks[head >> BlockShift] ??= new Block();
        int i = head & BlockMask;
        if (b.Files[i] == null) b.Used++;
        b.Files[i] = file;
        b.Indexes[i] = index;
    }

    /// <summary><see cref="Set"/> of the order-0 folios at frames [pfn, pfn + n), at consecutive indexes from <paramref name="index"/>.</summary>
    public void SetSmallRun(int pfn, int n, ShmemFile file, long index)
    {
        for (int end = pfn + n; pfn < end;)
        {
            var b = _blocks[pfn >> BlockShift] ??= new Block();
            int i = pfn & BlockMask, k = Math.Min(end - pfn, BlockMask + 1 - i);
            for (int j = i; j < i + k; j++)
            {
                if (b.Files[j] == null) b.Used++;
                b.Files[j] = file;
                b.Indexes[j] = index++;
            }
            pfn += k;
        }
    }

    /// <summary>Forgets the owner of <paramref name="head"/>; false when it had none.</summary>
    public bool Remove(int head) => Remove(head, out _);

    public bool Remove(int head, out (ShmemFile File, long Index) owner)
    {
        owner = default;
        var b = _blocks[head >> BlockShift];
        int i = head & BlockMask;
        if (b?.Files[i] is not { } f) return false;
        owner = (f, b.Indexes[i]);
        b.Files[i] = null;
        if (--b.Used == 0) _blocks[head >> BlockShift] = null;
        return true;
    }
}
