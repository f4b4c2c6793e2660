namespace MthpSim.Core.Host;

/// <summary>
/// Keeps a few released <see cref="LazyHostMemory"/> blocks with their committed pages, for the next
/// block of the same length: a machine built after another (a sweep's cells, the fuzzer's episodes,
/// the bench's runs) zeroes the per-frame state its predecessor committed instead of having the host
/// fault every page in again, which costs about a microsecond per 4 KiB on a virtual machine. It
/// holds host memory only, never simulation state, so simulations side by side stay independent;
/// it keeps the most recently released blocks, at most <see cref="MaxBlocks"/> of them and
/// <see cref="MaxCommittedBytes"/> committed bytes in all.
/// </summary>
internal static class HostMemoryRecycler
{
    const int MaxBlocks = 4;
    const long MaxCommittedBytes = 256L << 20;

    static readonly object Lock = new();
    static readonly List<(nint Pointer, long Length, (long Start, long End)[] Committed, long Bytes)> Kept = [];

    /// <summary>Unmaps every kept block (for tests that need the recycler to themselves).</summary>
    internal static void Drop()
    {
        lock (Lock)
        {
            foreach (var k in Kept) LazyHostMemory.munmap(k.Pointer, (nuint)k.Length);
            Kept.Clear();
        }
    }

    /// <summary>Whether a block of this length is kept (for tests).</summary>
    internal static bool Holds(long length)
    {
        lock (Lock) return Kept.Any(k => k.Length == length);
    }

    /// <summary>Takes a kept block of exactly <paramref name="length"/> bytes, with the ranges its last owner committed (to be zeroed).</summary>
    public static bool TryTake(long length, out nint pointer, out (long Start, long End)[] committed)
    {
        lock (Lock)
        {
            for (int i = 0; i < Kept.Count; i++)
            {
                if (Kept[i].Length != length) continue;
                (pointer, committed) = (Kept[i].Pointer, Kept[i].Committed);
                Kept.RemoveAt(i);
                return true;
            }
        }
        (pointer, committed) = (0, []);
        return false;
    }

    /// <summary>
    /// Keeps a released block, unmapping the longest-kept ones to stay within the limits; false (the
    /// caller unmaps it) only for a block over the byte limit by itself.
    /// </summary>
    public static bool TryKeep(nint pointer, long length, IReadOnlyList<(long Start, long End)> committed)
    {
        long bytes = committed.Sum(r => r.End - r.Start);
        if (bytes > MaxCommittedBytes) return false;
        lock (Lock)
        {
            Kept.Add((pointer, length, committed.ToArray(), bytes));
            while (Kept.Count > MaxBlocks || Kept.Sum(k => k.Bytes) > MaxCommittedBytes)
            {
                LazyHostMemory.munmap(Kept[0].Pointer, (nuint)Kept[0].Length);
                Kept.RemoveAt(0);
            }
            return true;
        }
    }
}
