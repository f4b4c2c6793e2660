using MthpSim.Core.Folio;
using MthpSim.Core.Shmem;
using MthpSim.Core.Thp;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/shmem.c and mm/memfd.c: shmem files as a program sees them through file system calls.
public sealed partial class Kernel
{
    readonly List<ShmemFile> _files = new();
    int _nextFileId = 1;

    /// <summary>Every live shmem file (memfds, tmpfs files, shared anonymous mappings' files), in creation order.</summary>
    public IReadOnlyList<ShmemFile> Files => _files;

    /// <summary>NR_SHMEM: shmem pages in the page cache (meminfo Shmem).</summary>
    internal long NrShmem;
    /// <summary>NR_SHMEM_THPS in pages: PMD-sized shmem folios in the page cache (ShmemHugePages).</summary>
    internal long NrShmemThps;
    /// <summary>NR_SHMEM_PMDMAPPED in pages: shmem pages mapped by a PMD (ShmemPmdMapped).</summary>
    internal long NrShmemPmdMapped;
    /// <summary>NR_FILE_MAPPED: file pages mapped at least once (meminfo Mapped).</summary>
    internal long NrFileMapped;

    long PagesOf(long bytes) => (bytes + Geo.PageSize - 1) >> PageShift;

    ShmemFile NewFile(string name, TmpfsMount? mount, long size, bool anonShared = false)
    {
        var huge = mount?.Huge ?? Thp.InternalMountHuge;
        var f = new ShmemFile(_nextFileId++, name, mount, Geo.PmdOrder) { LargeFolios = huge != ShmemHuge.Never, AnonShared = anonShared, Size = size };
        _files.Add(f);
        if (anonShared) _anonSharedFiles++;
        return f;
    }

    /// <summary>Files of shared anonymous mappings still held (each munmap looks for the ones nothing maps any more).</summary>
    int _anonSharedFiles;

    /// <summary>models memfd_create() followed by ftruncate(SIZE): a file on the internal mount.</summary>
    public ShmemFile MemfdCreate(string name, long size) => NewFile("memfd:" + name, null, size);

    /// <summary>
    /// models mount -t tmpfs -o huge=HUGE[,size=SIZE] (shmem_parse_one()): the huge= words the kernel
    /// knows (never, always, within_size, advise); any other is -EINVAL. Without size=, half of memory.
    /// </summary>
    public long TmpfsMount(string huge, long? sizeBytes, out TmpfsMount? mount)
    {
        mount = null;
        ShmemHuge? h = huge switch
        {
            "never" => ShmemHuge.Never, "always" => ShmemHuge.Always,
            "within_size" => ShmemHuge.WithinSize, "advise" => ShmemHuge.Advise, _ => null,
        };
        if (h == null) return -Errno.EINVAL;
        long maxPages = sizeBytes is long b ? PagesOf(b) : Buddy.TotalPages / 2;
        mount = new TmpfsMount(huge, h.Value, maxPages);
        return 0;
    }

    /// <summary>models open(O_CREAT) on a tmpfs mount, then ftruncate(SIZE).</summary>
    public ShmemFile CreateFile(string name, TmpfsMount mount, long size) => NewFile(name, mount, size);

    /// <summary>models shmem_setattr() for ATTR_SIZE: growing only sets i_size; otherwise it unmaps and truncates past the new end.</summary>
    public long Ftruncate(ShmemFile f, long size)
    {
        if (size < 0) return -Errno.EINVAL;
        if (FtruncateLivelock(f, size) is string hang) throw new NotSupportedException(hang);
        long old = f.Size;
        f.Size = size;
        // Growing only moves i_size: what was written past the old end through a whole-folio mapping
        // shows. Not growing (the same size too) unmaps past the new end and drops the page cache there.
        if (size <= old)
        {
            if (old > PagesOf(size) << PageShift) UnmapMappingRange(f, PagesOf(size), long.MaxValue, evenCows: true);
            if (f.AllocedPages > 0) ShmemUndoRange(f, size, long.MaxValue);
        }
        return 0;
    }

    /// <summary>
    /// models shmem_fallocate(): PUNCH_HOLE|KEEP_SIZE unmaps the whole pages of the range and truncates
    /// it (shmem_truncate_range()); mode 0 allocates every missing folio with the write path's order
    /// rules (SGP_FALLOC), leaves them not uptodate (holes to SEEK_DATA, zeroes to read) and grows i_size;
    /// swapped-out pages are swapped in, and every folio of the range is marked dirty. Reclaim leaves
    /// the new folios alone while it runs (shmem_falloc).
    /// </summary>
    public long Fallocate(ShmemFile f, bool punch, long offset, long len) => Fallocate(f, punch, offset, len, null);

    /// <summary><see cref="Fallocate(ShmemFile, bool, long, long)"/> called by <paramref name="current"/> (MADV_REMOVE): a hole's splits charge their nodes to its group.</summary>
    internal long Fallocate(ShmemFile f, bool punch, long offset, long len, MmStruct? current)
    {
        if (offset < 0 || len <= 0) return -Errno.EINVAL;
        if (punch)
        {
            if (PunchLivelock(f, offset, len) is string hang) throw new NotSupportedException(hang);
            UnmapMappingRange(f, PagesOf(offset), (offset + len) >> PageShift);
            ShmemUndoRange(f, offset, offset + len - 1, current);
            return 0;
        }
        long start = offset >> PageShift, end = PagesOf(offset + len);
        // fallocend moves before the folios are added (a writeout meanwhile reads it); a failure puts it back
        long undoFallocEnd = f.FallocEnd;
        f.FallocEnd = Math.Max(f.FallocEnd, end);
        // shmem_fallocate()'s progress, which shmem_writeout() reads (inode->i_private)
        f.Falloc = new ShmemFalloc(start);
        try
        {
            for (long index = start; index < end;)
            {
                int head = -Errno.ENOMEM;
                // more of its new folios pushed back by reclaim than it has made: give up
                if (f.Falloc.NrUnswapped <= f.Falloc.NrFalloced)
                {
                    head = f.Cache.IsSwap(index, out _, out _) ? ShmemSwapin(f, index, null, fault: false) : f.Cache.Lookup(index);   // SGP_FALLOC swaps in
                    if (head == -1)   // a hole
                    {
                        head = ShmemAllocAndAdd(f, null, 0, index, offset + len);
                        if (head >= 0) _notUptodate.Add(head);
                    }
                    else if (head >= 0 && _notUptodate.Contains(head)) MarkUptodate(head);   // a second fallocate zeroes it and makes it data
                }
                if (head < 0)
                {
                    f.FallocEnd = undoFallocEnd;
                    // the folios this call added, still not written, leave again
                    foreach (var (_, h) in f.Cache.Folios(start, index, h => 1 << Map.Order(h)))
                        if (_notUptodate.Contains(h)) TruncateFolio(h);
                    return head == -Errno.ENOMEM ? -Errno.ENOMEM : -Errno.ENOSPC;
                }
                // every folio of the range, new or found clean (a read fault's), so that reclaim swaps it rather than drops it
                Map.Set(head, PageFlags.Dirty);
                index = ShmemOwnerOf(head).Index + (1 << Map.Order(head));
                if (!ShmemFolioUptodate(head)) f.Falloc.NrFalloced += index - f.Falloc.Next;
                f.Falloc.Next = index;
            }
        }
        finally { f.Falloc = null; }
        if (offset + len > f.Size) f.Size = offset + len;
        return 0;
    }

    /// <summary>
    /// models shmem_file_llseek() → mapping_seek_hole_data(): data is an uptodate folio or a swap
    /// entry, whole folios or entries at a time; results are clamped to i_size; an offset at or past
    /// i_size is -ENXIO.
    /// </summary>
    public long Lseek(ShmemFile f, bool data, long offset)
    {
        if (offset < 0 || offset >= f.Size) return -Errno.ENXIO;
        long endIndex = PagesOf(f.Size);
        for (long index = offset >> PageShift; index < endIndex;)
        {
            int head = f.Cache.Lookup(index);
            bool swap = f.Cache.IsSwap(index, out _, out int swapOrder);
            bool isData = swap || (head >= 0 && !_notUptodate.Contains(head));
            if (isData == data) return Math.Min(f.Size, Math.Max(offset, index << PageShift));
            if (swap) index = (index | ((1L << swapOrder) - 1)) + 1;
            else if (head >= 0) index = ShmemOwnerOf(head).Index + (1 << Map.Order(head));
            else if (data && f.Cache.NextCached(index, endIndex, swap: true) is var next) index = next < 0 ? endIndex : next;   // skip the hole at once
            else index++;
        }
        return data ? -Errno.ENXIO : f.Size;
    }

    /// <summary>
    /// models generic_perform_write() with shmem_write_begin()/shmem_write_end(): chunks of the
    /// mapping's largest folio size, each allocating (SGP_WRITE, no VMA: the per-size knobs do not
    /// apply) the folio at the current position; every page written gets new content and i_size grows.
    /// Returns the bytes written or a negative errno when nothing could be.
    /// </summary>
    public long Pwrite(ShmemFile f, long offset, long len)
    {
        if (offset < 0 || len < 0) return -Errno.EINVAL;
        long chunk = f.LargeFolios ? Geo.PmdSize : Geo.PageSize;
        long pos = offset, end = offset + len;
        // What the file should read, recorded a run of pages written with consecutive tokens at a time.
        long recorded = 0, recordN = 0;
        uint recordToken = 0;
        long Written()
        {
            f.RecordContent(recorded, recordN, recordToken);
            return pos - offset;
        }
        bool smallOnly = ShmemWriteSmallOnly(f);
        while (pos < end)
        {
            long bytes = Math.Min(chunk - (pos & (chunk - 1)), end - pos);
            long index = pos >> PageShift;
            int entry = f.Cache.Entry(index);
            if (entry == 0 && smallOnly)
            {
                int got = ShmemWriteNewPages(f, index, (int)Math.Min(PagesOf(end) - index, Geo.PtrsPerPte), out uint firstToken);
                if (got > 0)
                {
                    if (index == recorded + recordN && firstToken == recordToken + recordN) recordN += got;
                    else
                    {
                        f.RecordContent(recorded, recordN, recordToken);
                        (recorded, recordN, recordToken) = (index, got, firstToken);
                    }
                    pos = Math.Min((index + got) << PageShift, end);
                    if (pos > f.Size) f.Size = pos;
                    continue;
                }
            }
            int head = entry < 0 ? ShmemSwapin(f, index, null, fault: false) : PageCache.HeadOf(entry);
            if (head == -Errno.ENOMEM) return pos > offset ? Written() : head;
            long first;
            if (head < 0)
            {
                head = ShmemAllocAndAdd(f, null, 0, index, pos + bytes);
                if (head < 0) return pos > offset ? Written() : head;
                Map.Set(head, PageFlags.Referenced);
                first = index & ~((1L << Map.Order(head)) - 1);   // where AddToPageCache() put it
            }
            else
            {
                FolioMarkAccessed(head);
                first = ShmemOwnerOf(head).Index;
            }
            // shmem_write_end(): a not-uptodate folio is zeroed outside what was written, then uptodate
            if (_notUptodate.Count > 0 && _notUptodate.Contains(head)) MarkUptodate(head);
            long folioEnd = (first + (1L << Map.Order(head))) << PageShift;
            bytes = Math.Min(bytes, folioEnd - pos);
            long firstPage = pos >> PageShift, pages = PagesOf(pos + bytes) - firstPage;
            uint token = NextTokens((int)pages);
            Map.SetContentRun(head + (int)(firstPage - first), (int)pages, token);
            if (firstPage == recorded + recordN && token == recordToken + recordN) recordN += pages;
            else
            {
                f.RecordContent(recorded, recordN, recordToken);
                (recorded, recordN, recordToken) = (firstPage, pages, token);
            }
            Map.Set(head, PageFlags.Dirty);
            pos += bytes;
            if (pos > f.Size) f.Size = pos;
        }
        Written();
        return len;
    }

    /// <summary>Whether every folio the write path allocates in F is of order 0 (shmem_allowable_huge_orders() without a VMA is 0 at every index).</summary>
    bool ShmemWriteSmallOnly(ShmemFile f) =>
        Thp.ShmemEnabled == ShmemEnabled.Deny
        || (Thp.ShmemEnabled != ShmemEnabled.Force && (f.Mount?.Huge ?? Thp.InternalMountHuge) is ShmemHuge.Never or ShmemHuge.Advise);

    /// <summary>
    /// The writes of <see cref="Pwrite"/> to the holes from <paramref name="index"/> on (at most
    /// <paramref name="max"/> pages, within the mount's size limit), when each allocates an order-0
    /// folio, charged to nobody (no VMA, no mm): the folios are allocated first
    /// (<see cref="AllocSmallFolios"/>), then each is added to the page cache and written in index
    /// order, the pages taking consecutive tokens from <paramref name="token"/>. Returns how many
    /// it wrote; 0 leaves the next page to the usual way.
    /// </summary>
    int ShmemWriteNewPages(ShmemFile f, long index, int max, out uint token)
    {
        token = 0;
        if (f.Mount is { MaxPages: > 0 } m) max = (int)Math.Min(max, m.MaxPages - m.UsedPages);
        int n = f.Cache.HoleLength(index, max);
        if (n < 2) return 0;
        Span<int> heads = stackalloc int[n];
        int got = AllocSmallFolios(PageKind.Shmem, heads);
        if (got == 0) return 0;
        token = NextTokens(got);
        for (int i = 0, run; i < got; i += run)
        {
            int pfn = heads[i];
            run = ConsecutiveFrames(heads[..got], i);
            AddSmallRunToPageCache(f, pfn, run, index + i);
            Map.SetRange(pfn, run, PageFlags.Referenced | PageFlags.Dirty);
            Map.SetContentRun(pfn, run, token + (uint)i);
        }
        Work(Cost.KernelWork.PagesZeroed, got);
        return got;
    }

    /// <summary>models shmem_file_read_iter() (SGP_READ): reads up to i_size; holes and not-uptodate folios read as zeroes, nothing is allocated; swapped-out pages are swapped in.</summary>
    public long Pread(ShmemFile f, long offset, long len)
    {
        if (offset < 0 || len < 0) return -Errno.EINVAL;
        if (offset >= f.Size) return 0;
        long end = Math.Min(offset + len, f.Size);
        for (long index = offset >> PageShift; index < PagesOf(end);)
        {
            int head = f.Cache.IsSwap(index, out _, out _) ? ShmemSwapin(f, index, null, fault: false) : f.Cache.Lookup(index);
            if (head == -Errno.ENOMEM) return index > offset >> PageShift ? Math.Max((index << PageShift) - offset, 0) : head;
            if (head < 0) { index++; continue; }
            if (!_notUptodate.Contains(head)) FolioMarkAccessed(head);
            index = ShmemOwnerOf(head).Index + (1 << Map.Order(head));
        }
        return end - offset;
    }

    /// <summary>The page-cache folio at byte <paramref name="offset"/>: its order, or -1 for none.</summary>
    public int FileFolioOrder(ShmemFile f, long offset)
    {
        int head = f.Cache.Lookup(offset >> PageShift);
        return head < 0 ? -1 : Map.Order(head);
    }

    /// <summary>What the page cache holds at byte <paramref name="offset"/>: <c>shmem</c> (a folio), <c>swap</c> (a swap entry) or <c>none</c>.</summary>
    public string FileEntryKind(ShmemFile f, long offset) =>
        f.Cache.IsSwap(offset >> PageShift, out _, out _) ? "swap" : f.Cache.Lookup(offset >> PageShift) >= 0 ? "shmem" : "none";

    /// <summary>st_blocks in kB: every page the file holds, past EOF included (i_blocks).</summary>
    public long FileBlocksKb(ShmemFile f) => f.AllocedPages * (Geo.PageSize >> 10);

    /// <summary>models shmem_evict_inode() for a shared anonymous mapping's file whose last mapping went away.</summary>
    internal void ReleaseUnmappedAnonShmem()
    {
        if (_anonSharedFiles == 0) return;
        foreach (var f in _files.Where(f => f.AnonShared && f != _collapsingFile).ToList())
        {
            if (_mms.Any(mm => mm.Vmas.Any(v => v.File == f))) continue;
            ShmemUndoRange(f, 0, long.MaxValue);
            _files.Remove(f);
            _anonSharedFiles--;
        }
    }
}
