namespace MthpSim.Oracle.Live;

/// <summary>
/// What a program must read in a shmem file (a memfd, a tmpfs file, the object behind a shared
/// anonymous mapping), for <c>intact</c>: per page, the 8-byte word at its start, which is where the
/// drivers store tokens (<c>touch</c>, <c>pwrite</c>) and where <c>peek</c>/<c>fpages</c> read. Other
/// bytes are never compared. A page the model does not hold reads 0 (a hole, a fallocated page,
/// anything beyond the end of the file). Byte-exact on that word, so a write or a punch that covers
/// only part of it is followed exactly.
/// </summary>
public sealed class FileContent
{
    readonly Dictionary<long, ulong> _words = new();
    readonly long _pageSize;

    public FileContent(long pageSize) => _pageSize = pageSize;

    public ulong Word(long page) => _words.GetValueOrDefault(page);

    /// <summary>Pages whose word is not 0.</summary>
    public IEnumerable<long> Pages => _words.Keys;

    /// <summary>An 8-byte store at the start of a page (a write through a shared mapping).</summary>
    public void Store(long page, ulong word) => Set(page, word);

    /// <summary>
    /// The driver's <c>pwrite FD OFF LEN TOKEN</c> of <paramref name="written"/> bytes at
    /// <paramref name="off"/>: page i of those the write touches (counted from the page holding OFF)
    /// gets TOKEN+i in the bytes of its first word that the write covers.
    /// </summary>
    public void Write(long off, long written, ulong token)
    {
        long firstPage = off / _pageSize;
        ForEachWordPart(off, written, (page, from, to) =>
        {
            ulong tok = token + (ulong)(page - firstPage);
            ulong mask = Mask(from, to);
            Set(page, (Word(page) & ~mask) | (tok & mask));
        });
    }

    /// <summary>Zeroes [off, off+len): a punched hole (fallocate punch, MADV_REMOVE).</summary>
    public void Zero(long off, long len) =>
        ForEachWordPart(off, len, (page, from, to) => Set(page, Word(page) & ~Mask(from, to)));

    /// <summary>ftruncate to a size that does not grow the file: everything from the new size on reads 0 (also after the file grows again).</summary>
    public void Truncate(long size)
    {
        foreach (var page in _words.Keys.Where(p => (p + 1) * _pageSize > size).ToList())
        {
            long from = Math.Max(0, size - page * _pageSize);
            if (from < 8) Set(page, Word(page) & ~Mask((int)from, 8));
        }
    }

    /// <summary>Calls <paramref name="part"/>(page, from, to) for each page whose first word [0, 8) the range [off, off+len) covers in part: bytes [from, to).</summary>
    void ForEachWordPart(long off, long len, Action<long, int, int> part)
    {
        if (len <= 0) return;
        long end = off + len;
        for (long page = off / _pageSize; page * _pageSize < end; page++)
        {
            long start = page * _pageSize;
            long from = Math.Max(off, start) - start, to = Math.Min(end, start + 8) - start;
            if (from < to) part(page, (int)from, (int)to);
        }
    }

    /// <summary>Bytes [from, to) of a little-endian word.</summary>
    static ulong Mask(int from, int to)
    {
        ulong m = 0;
        for (int b = from; b < to; b++) m |= 0xffUL << (8 * b);
        return m;
    }

    void Set(long page, ulong word)
    {
        if (word == 0) _words.Remove(page);
        else _words[page] = word;
    }
}
