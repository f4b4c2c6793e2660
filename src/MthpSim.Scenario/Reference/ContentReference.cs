using MthpSim.Core;
using MthpSim.Core.Vma;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Reference;

/// <summary>
/// The harness's own record of what every program must read, kept from the statements' semantics
/// alone (a write stores; munmap and dontneed forget; mremap moves; fork copies; free leaves old or
/// zeroes; a private file mapping shows the file until the program holds its own copy of a page),
/// sharing nothing with the kernel model's page tables or its own expected-content record.
/// After every statement it is compared with what the model's page tables resolve to, and with the
/// model's VMAs; the return codes the model gave decide only whether a statement took effect.
/// </summary>
public sealed class ContentReference
{
    readonly Dictionary<string, ReferenceProcess> _procs = new();
    /// <summary>Each shmem file's pages as the programs wrote them (page index to token), by file name or shared mapping.</summary>
    readonly Dictionary<string, PageTokens> _fileContent = new();
    /// <summary>Per process, its file mappings: pages [Start, End) show file Key from page PgOff (a private one until copied).</summary>
    readonly Dictionary<string, List<FileRange>> _fileRanges = new();

    sealed record FileRange(ulong Start, ulong End, string Key, long PgOff, bool Shared);

    /// <summary>A private file mapping's own copy of a page that held zeroes (0 in the process record means "the file's").</summary>
    const uint OwnZero = 1u << 30;
    /// <summary>
    /// A private file mapping's zero page (UFFDIO_ZEROPAGE): reads zeroes, but unlike a copy it goes
    /// when the file's range is punched or truncated (the zap takes the zero page, even_cows or not).
    /// </summary>
    const uint OwnZeroPage = 1u << 29;

    /// <summary>Each file's i_size in bytes and how far fallocate reached in pages, as the statements set them.</summary>
    readonly Dictionary<string, (long SizeBytes, long FallocEnd)> _fileSize = new();
    int _shift;

    /// <summary>
    /// Pages past max(EOF, fallocate's end) are dropped when a split of their folio leaves them in a
    /// piece of their own (__folio_split()); what was written there through a mapping may read zeroes afterwards.
    /// </summary>
    void MayDropPastEof(string key)
    {
        if (!_fileSize.TryGetValue(key, out var sz)) return;
        long sizePages = (sz.SizeBytes + (1L << _shift) - 1) >> _shift;
        FileContent(key).Update((ulong)Math.Max(sizePages, sz.FallocEnd), ulong.MaxValue, c => c | ReferenceProcess.OldOrZero);
    }

    /// <summary>
    /// MADV_FREE of [start, end): old content or zeroes, here and in every other process that still
    /// holds the same stores (inherited by fork, untouched since): the kernel marks a clean folio
    /// lazily freed however many processes map it, and reclaim then drops it from all of them.
    /// </summary>
    void FreeLazily(string process, ulong start, ulong end)
    {
        var proc = _procs[process];
        var stores = new HashSet<uint>();
        foreach (var (a, e) in proc.MappedWithin(start, end))
            for (ulong page = a; page < e; page++)
                if (proc.Get(page) is var c and not 0 && (c & (OwnZero | OwnZeroPage)) == 0) stores.Add(c & ~ReferenceProcess.OldOrZero);
        proc.Update(start, end, c => c | ReferenceProcess.OldOrZero);
        if (stores.Count == 0) return;
        foreach (var (name, other) in _procs)
            if (name != process) other.Update(0, ulong.MaxValue, c => stores.Contains(c & ~ReferenceProcess.OldOrZero) ? c | ReferenceProcess.OldOrZero : c);
    }

    void SetSize(string key, long bytes, int shift, bool grow = false)
    {
        _shift = shift;
        var sz = _fileSize.GetValueOrDefault(key);
        _fileSize[key] = (grow ? Math.Max(sz.SizeBytes, bytes) : bytes, sz.FallocEnd);
    }
    /// <summary>
    /// Truncating or punching whole pages [first, end) that reach fallocate's end takes it back to
    /// the range's start (shmem_undo_range()): pages past EOF are then kept by a split no longer.
    /// </summary>
    void UndoFallocEnd(string key, long first, long end)
    {
        if (_fileSize.TryGetValue(key, out var sz) && sz.FallocEnd > first && sz.FallocEnd <= end) _fileSize[key] = (sz.SizeBytes, first);
    }

    // Taken before a statement runs: the region it names (mremap and munmap change the binding) and the next store's token.
    (ulong Start, ulong Length)? _region;
    uint _tokenBefore;
    /// <summary>The kernel's count of shmem pages past EOF dropped by splits, before the statement.</summary>
    long _splitDropsBefore;

    PageTokens FileContent(string key) =>
        _fileContent.TryGetValue(key, out var d) ? d : _fileContent[key] = new();

    /// <summary>The file page a process page shows, when it is in a file mapping (shared or private).</summary>
    (string Key, long Index, bool Shared)? FilePage(string process, ulong page)
    {
        if (!_fileRanges.TryGetValue(process, out var list)) return null;
        foreach (var r in list)
            if (page >= r.Start && page < r.End) return (r.Key, r.PgOff + (long)(page - r.Start), r.Shared);
        return null;
    }

    /// <summary>The file page a process page shows, when it is in a shared mapping.</summary>
    (string Key, long Index)? SharedPage(string process, ulong page) =>
        FilePage(process, page) is (var key, var index, true) ? (key, index) : null;

    /// <summary>A store to a page: to the file behind it if the mapping is shared, else private to the process.</summary>
    void Store(string process, ulong page, uint token)
    {
        if (SharedPage(process, page) is var (key, index)) FileContent(key).Set((ulong)index, token);
        else _procs[process].Set(page, token);
    }

    /// <summary>What a page must read: the file's page in a shared mapping, or in a private one the program has no copy of; else its own content.</summary>
    uint Want(string process, ulong page)
    {
        uint own = _procs[process].Get(page);
        if (FilePage(process, page) is var (key, index, shared) && (shared || own == 0)) return FileContent(key).Get((ulong)index);
        return own is OwnZero or OwnZeroPage ? 0 : own;
    }

    /// <summary>
    /// A private file mapping's page becomes the program's own copy of what the file holds there (a
    /// COW fault without a store); where userfaultfd had mapped the zero page, a copy of the zero page.
    /// </summary>
    void CopyFilePage(string process, ulong page)
    {
        var proc = _procs[process];
        uint own = proc.Get(page);
        if (own == OwnZeroPage) { proc.Set(page, OwnZero); return; }   // wp_page_copy() of the zero page: a punch no longer takes it
        if (own != 0 || FilePage(process, page) is not (var key, var index, false)) return;
        uint c = FileContent(key).Get((ulong)index);
        proc.Set(page, c != 0 ? c : OwnZero);
    }

    /// <summary>
    /// GUP for write over pages [start, end) (MADV_POPULATE_WRITE, a pin) in page order: each page of a
    /// private file mapping becomes a copy, up to the first page it cannot fault (a hole, a VMA without
    /// write permission, a file page past EOF not mapped before: SIGBUS), where GUP stops. When the
    /// statement failed, GUP may also have stopped at a hole its tmpfs had no room to fill (ENOSPC,
    /// SIGBUS), which this record cannot tell from the file alone: there, the first page the model
    /// did not copy is taken as where it stopped (the copies before it are still checked).
    /// </summary>
    void WriteFaulted(ScenarioSession s, string process, ulong start, ulong end, bool failed)
    {
        var proc = _procs[process];
        var mm = s.Process(process);
        for (ulong page = start; page < end; page++)
        {
            if (!proc.IsMapped(page) || mm.FindVma(page << _shift) is not { } vma || (vma.Flags & VmFlags.Write) == 0) return;
            if (FilePage(process, page) is var (key, index, shared) && index >= FileSizePages(key) && !_mappedPastEof.Contains(page)) return;
            // (a copy may be swapped out already: reclaim for a later page's charge)
            if (failed && FilePage(process, page) is (_, _, false) && s.Kernel.FolioKindAt(mm, page << _shift) is not (FolioKindProbe.Anon or FolioKindProbe.Swap)) return;
            CopyFilePage(process, page);
        }
    }

    readonly HashSet<ulong> _mappedPastEof = new();

    long FileSizePages(string key) => (_fileSize.GetValueOrDefault(key).SizeBytes + (1L << _shift) - 1) >> _shift;

    /// <summary>Truncation drops the private copies past the new end too (unmap_mapping_range() with even_cows).</summary>
    void DropCopiesPast(string key, long firstIndex)
    {
        foreach (var (process, ranges) in _fileRanges)
            foreach (var r in ranges.Where(r => !r.Shared && r.Key == key))
            {
                long from = Math.Max(firstIndex, r.PgOff), to = r.PgOff + (long)(r.End - r.Start);
                if (from < to) _procs[process].Zero(r.Start + (ulong)(from - r.PgOff), r.End);
            }
    }

    /// <summary>
    /// After a punch, whether the model's file still holds a swap entry at <paramref name="index"/>:
    /// a large entry across the range's edge that could not be swapped in (-ENOMEM) to be zeroed in
    /// part, which shmem_undo_range() then leaves whole, content and all. No other entry survives a punch.
    /// </summary>
    static bool SwapLeft(MthpSim.Core.Shmem.ShmemFile f, long index) => f.Cache.IsSwap(index, out _, out _);

    /// <summary>A punch or truncation of [first, end): those pages read zeroes, and the private mappings' zero pages there go.</summary>
    void ZeroFile(string key, long first, long end)
    {
        FileContent(key).Update((ulong)first, (ulong)end, _ => 0);
        DropZeroPages(key, first, end);
    }

    /// <summary>unmap_mapping_range() without even_cows zaps a private mapping's zero pages over the file range: the file shows again.</summary>
    void DropZeroPages(string key, long first, long end)
    {
        foreach (var (process, ranges) in _fileRanges)
            foreach (var r in ranges.Where(r => !r.Shared && r.Key == key))
            {
                long from = Math.Max(first, r.PgOff), to = Math.Min(end, r.PgOff + (long)(r.End - r.Start));
                if (from < to) _procs[process].Update(r.Start + (ulong)(from - r.PgOff), r.Start + (ulong)(to - r.PgOff), c => c == OwnZeroPage ? 0 : c);
            }
    }

    /// <summary>The process's file mappings over pages [start, end), cut to it, in address order (the record's list is not).</summary>
    List<FileRange> FileRangesWithin(string process, ulong start, ulong end) =>
        _fileRanges.TryGetValue(process, out var ranges)
            ? ranges.Where(r => r.End > start && r.Start < end)
                .Select(r => r.Start < start ? r with { Start = start, PgOff = r.PgOff + (long)(start - r.Start) } : r)
                .Select(r => r.End > end ? r with { End = end } : r).OrderBy(r => r.Start).ToList()
            : [];

    void UnmapFileRanges(string process, ulong start, ulong end)
    {
        if (!_fileRanges.TryGetValue(process, out var list)) return;
        var kept = new List<FileRange>();
        foreach (var r in list)
        {
            if (r.End <= start || r.Start >= end) { kept.Add(r); continue; }
            if (r.Start < start) kept.Add(r with { End = start });
            if (r.End > end) kept.Add(r with { Start = end, PgOff = r.PgOff + (long)(end - r.Start) });
        }
        _fileRanges[process] = kept;
    }

    /// <summary>Call before the statement runs.</summary>
    public void Before(ScenarioSession s, Statement stmt)
    {
        _tokenBefore = s.Kernel.NextStoreToken;
        (s.Kernel.UffdFillLog ??= new()).Clear();
        _splitDropsBefore = s.Kernel.ShmemPastEofDrops;
        _shift = s.Kernel.Geo.PageShift;
        _region = null;
        (string Process, string Region)? named = stmt switch
        {
            AccessStmt a => (a.Process, a.Region),
            PinStmt pn => (pn.Process, pn.Region),
            MunmapStmt u => (u.Process, u.Region),
            MadviseStmt m => (m.Process, m.Region),
            MremapStmt mr => (mr.Process, mr.Region),
            _ => null,
        };
        if (named is var (p, r) && s.HasRegion(p, r))
        {
            try { var b = s.Region(p, r, stmt.Span); _region = (b.Start, b.Length); }
            catch (ScenarioRuntimeException) { }   // the statement itself fails and says why
        }
        _mappedPastEof.Clear();
        (string Process, long Offset, long Length)? gup = stmt switch
        {
            MadviseStmt { Advice: Advice.PopulateWrite } m => (m.Process, m.Offset, m.Length),
            PinStmt { IsPin: true } pn => (pn.Process, pn.Offset, pn.Length),
            _ => null,
        };
        // A page past EOF that is mapped already (a large folio mapped whole) takes no SIGBUS: GUP goes on
        // there. Not through a PMD of a private mapping: the write fault splits it (wp_huge_pmd(); for a
        // file that unmaps it), and the page then faults past EOF.
        if (gup is var (gp, goff, glen) && _region is var (rs, _) && _procs.ContainsKey(gp))
        {
            var mm = s.Process(gp);
            for (ulong page = (rs + (ulong)goff) >> _shift, end = (rs + (ulong)goff + (ulong)glen + (1UL << _shift) - 1) >> _shift; page < end; page++)
                if (FilePage(gp, page) is var (key, index, shared) && index >= FileSizePages(key) && s.Kernel.FolioKindAt(mm, page << _shift) != FolioKindProbe.None
                    && (shared || !s.Kernel.PmdMappedAt(mm, page << _shift)))
                    _mappedPastEof.Add(page);
        }
    }

    /// <summary>
    /// Processes a <c>replay</c> made: what a recorded program stored is not a statement's, so the
    /// record does not follow them (nor their children); the model's own checks still cover them.
    /// </summary>
    readonly HashSet<string> _untracked = [];

    static string? ProcessOf(Statement stmt) => stmt switch
    {
        AccessStmt a => a.Process, CgroupAttachStmt c => c.Process, ExitStmt e => e.Process, ForkStmt f => f.Process,
        MadviseStmt m => m.Process, MmapStmt m => m.Process, MprotectStmt m => m.Process, MremapStmt m => m.Process,
        MunmapStmt m => m.Process, PinStmt p => p.Process, PrctlStmt p => p.Process, UffdStmt u => u.Process,
        _ => null,
    };

    /// <summary>Call after the statement ran: records its effect, then compares. Returns the first difference, or null.</summary>
    public string? After(ScenarioSession s, Statement stmt)
    {
        string? differs = null;
        if (stmt is ReplayStmt r)
            foreach (var p in r.Processes) _untracked.Add(r.Prefix + p.Number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        else if (ProcessOf(stmt) is { } untracked && _untracked.Contains(untracked))
        {
            if (stmt is ForkStmt f) _untracked.Add(f.Child);
        }
        else differs = Apply(s, stmt);
        // Reclaim and MADV_PAGEOUT/COLD split shmem folios too (any statement may reclaim): a split that
        // dropped pages past some file's EOF may have taken what was written there.
        if (s.Kernel.ShmemPastEofDrops != _splitDropsBefore)
            foreach (var key in _fileSize.Keys) MayDropPastEof(key);
        // A process that exited or that the OOM killer took has nothing left to compare.
        foreach (var name in _procs.Keys.Where(n => s.Process(n).Exited).ToList())
        {
            _procs.Remove(name);
            _fileRanges.Remove(name);
        }
        return differs ?? Compare(s);
    }

    string? Apply(ScenarioSession s, Statement stmt)
    {
        var k = s.Kernel;
        int shift = k.Geo.PageShift;
        ulong pageSize = (ulong)k.Geo.PageSize;
        ulong PagesUp(ulong bytes) => (bytes + pageSize - 1) >> shift;
        // Pages userfaultfd filled (by the statement, or by a handler thread during an access) hold
        // what it gave them; their tokens are not the statement's stores.
        var fills = k.UffdFillLog!;
        _fillTokens.Clear();
        foreach (var (mm, addr, token) in fills)
        {
            if (token != 0) _fillTokens.Add(token);
            if (_procs.Keys.FirstOrDefault(n => s.Process(n) == mm) is not { } process) continue;
            ulong page = addr >> shift;
            if (token != 0) Store(process, page, token);
            else if (FilePage(process, page) is (_, _, false)) _procs[process].Set(page, OwnZeroPage);
            else Store(process, page, 0);
        }
        uint stored = k.NextStoreToken - _tokenBefore - (uint)_fillTokens.Count;
        if (stored != 0 && stmt is not (AccessStmt { IsWrite: true } or FileIoStmt { Write: true }))
            return $"'{stmt.Text}' stored into {stored} pages, but only a write stores";
        switch (stmt)
        {
            case ProcessStmt p:
                _procs[p.Name] = new ReferenceProcess();
                break;
            case MmapStmt m:
            {
                if (s.Rc < 0) break;
                ulong start = (ulong)s.Rc >> shift, end = start + PagesUp((ulong)m.Length);
                var proc = _procs[m.Process];
                if (proc.AnyMapped(start, end)) return $"mmap returned 0x{(ulong)s.Rc:x}, over memory the program still has mapped";
                proc.Map(start, end);
                // A shared anonymous mapping is a file of its own, known by the statement that made it.
                if (m.Shared || m.File != null)
                {
                    string key = m.File ?? $"shared anon of line {m.Span.Line}";
                    if (m.File == null) SetSize(key, m.Length, shift);
                    (_fileRanges.TryGetValue(m.Process, out var l) ? l : _fileRanges[m.Process] = new())
                        .Add(new FileRange(start, end, key, m.FileOffset >> shift, m.Shared));
                }
                break;
            }
            case MunmapStmt u when s.Rc == 0 && _region is var (rs, rl):
            {
                ulong start = rs + (ulong)(u.Offset ?? 0);
                ulong endPage = PagesUp(start + (u.Length is long len ? (ulong)len : rl));
                _procs[u.Process].Unmap(start >> shift, endPage);
                UnmapFileRanges(u.Process, start >> shift, endPage);
                break;
            }
            case MemfdStmt mf:
                SetSize(mf.File, mf.Size, shift);
                break;
            case FileStmt fs when s.Rc == 0:
                SetSize(fs.File, fs.Size, shift);
                break;
            case FallocateStmt { Punch: false } fa when s.Rc == 0:
            {
                SetSize(fa.File, fa.Offset + fa.Length, shift, grow: true);
                var sz = _fileSize[fa.File];
                _fileSize[fa.File] = (sz.SizeBytes, Math.Max(sz.FallocEnd, (long)PagesUp((ulong)(fa.Offset + fa.Length))));
                break;
            }
            case FileIoStmt { Write: true } io when s.Rc > 0:
            {
                SetSize(io.File, io.Offset + s.Rc, shift, grow: true);
                long first = io.Offset >> shift, end = (long)PagesUp((ulong)(io.Offset + s.Rc));
                if (stored != end - first) return $"'{io.Text}' stored into {stored} pages, but it wrote {end - first}";
                var d = FileContent(io.File);
                for (long i = first; i < end; i++) d.Set((ulong)i, _tokenBefore + (uint)(i - first));
                break;
            }
            case FallocateStmt { Punch: true } fa when s.Rc == 0:
            {
                // Whole pages read zeroes; a page punched only in part keeps what was written around the hole.
                var f = s.File(fa.File, fa.Span);
                long first = (long)PagesUp((ulong)fa.Offset), end = (fa.Offset + fa.Length) >> shift;
                for (long i = first; i < end;)
                {
                    if (SwapLeft(f, i)) { i++; continue; }
                    long j = i + 1;
                    while (j < end && !SwapLeft(f, j)) j++;
                    ZeroFile(fa.File, i, j);
                    i = j;
                }
                UndoFallocEnd(fa.File, first, end);
                MayDropPastEof(fa.File);
                break;
            }
            case FtruncateStmt ft when s.Rc == 0:
            {
                // Growing zeroes nothing (pages written past the old end through a mapping show); otherwise the end goes.
                bool grows = ft.Size > _fileSize.GetValueOrDefault(ft.File).SizeBytes;
                if (!grows) ZeroFile(ft.File, (long)PagesUp((ulong)ft.Size), long.MaxValue);
                if (!grows) DropCopiesPast(ft.File, (long)PagesUp((ulong)ft.Size));
                if (!grows) UndoFallocEnd(ft.File, (long)PagesUp((ulong)ft.Size), long.MaxValue);
                SetSize(ft.File, ft.Size, shift);
                if (!grows) MayDropPastEof(ft.File);
                break;
            }
            // Faulting for write copies a private file mapping's pages, as far as the faults got (and
            // marks lazily freed pages dirty again: they keep their content). A lazily freed page
            // may also have gone before the fault reached it (reclaim for an earlier fault's charge
            // takes it), and then reads zeroes for good: which of the two happened is the model's.
            case MadviseStmt { Advice: Advice.PopulateWrite } ma when _region is var (rs, _) && s.Rc is 0 or -Errno.ENOMEM or -Errno.EFAULT:
            {
                ulong start = (rs + (ulong)ma.Offset) >> shift, end = PagesUp(rs + (ulong)ma.Offset + (ulong)ma.Length);
                if (s.Rc == 0 || s.Rc == -Errno.ENOMEM)
                {
                    var proc = _procs[ma.Process];
                    var mm = s.Process(ma.Process);
                    foreach (var (a, e) in proc.MappedWithin(start, end).ToList())
                        for (ulong page = a; page < e; page++)
                            if (proc.Get(page) is var c && (c & ReferenceProcess.OldOrZero) != 0)
                                proc.Set(page, s.Kernel.ContentAt(mm, page << shift) == 0 ? 0 : c & ~ReferenceProcess.OldOrZero);
                }
                WriteFaulted(s, ma.Process, start, end, failed: s.Rc < 0);
                break;
            }
            case MadviseStmt ma when (s.Rc == 0 || s.Rc == -Errno.ENOMEM || (ma.Advice is Advice.Free or Advice.Remove && s.Rc is -Errno.EINVAL or -Errno.EACCES && ma.Offset % (long)pageSize == 0)) && _region is var (rs, _):
            {
                // Holes give -ENOMEM after the mapped parts were advised (madvise_walk_vmas()).
                var proc = _procs[ma.Process];
                ulong start = (rs + (ulong)ma.Offset) >> shift;
                ulong end = start + PagesUp((ulong)ma.Length);
                // MADV_FREE stops at the first file mapping, MADV_REMOVE at the first that is not shared, after advising what comes before.
                if (s.Rc is -Errno.EINVAL or -Errno.EACCES)
                    for (ulong page = start; page < end; page++)
                        if (ma.Advice == Advice.Free ? FilePage(ma.Process, page) != null : SharedPage(ma.Process, page) == null) { end = page; break; }
                foreach (var (a, e) in proc.MappedWithin(start, end))
                    switch (ma.Advice)
                    {
                        case Advice.Remove:
                            var punched = new HashSet<string>();
                            for (ulong page = a; page < e; page++)
                                if (SharedPage(ma.Process, page) is var (key, index) && s.Process(ma.Process).FindVma(page << shift)?.File is { } pf && !SwapLeft(pf, index))
                                {
                                    ZeroFile(key, index, index + 1);
                                    punched.Add(key);
                                }
                            foreach (var key in punched) MayDropPastEof(key);
                            break;
                        case Advice.Dontneed: proc.Zero(a, e); break;
                        case Advice.Free: FreeLazily(ma.Process, a, e); break;
                    }
                break;
            }
            // (a pin by a process the OOM killer took did nothing: -ESRCH)
            case PinStmt { IsPin: true } pin when _region is var (rs, _) && _procs.ContainsKey(pin.Process):
                WriteFaulted(s, pin.Process, (rs + (ulong)pin.Offset) >> shift, PagesUp(rs + (ulong)pin.Offset + (ulong)pin.Length), failed: s.Rc < 0);
                break;
            case AccessStmt { IsWrite: true } ac when _region is var (rs, _):
                return Stored(ac, rs, stored, s.Rc, shift);
            case MremapStmt mr when s.Rc >= 0 && _region is var (rs, rl):
                return Moved(mr, rs >> shift, PagesUp(rl), (ulong)s.Rc >> shift, PagesUp((ulong)mr.NewLength), shift);
            case MremapStmt { NewAddr: long to } mr when s.Rc is -Errno.ENOMEM or -Errno.EFAULT && _region is var (rs, rl) && PagesUp((ulong)mr.NewLength) == PagesUp(rl):
                PartlyMoved(s, mr, rs >> shift, PagesUp(rl), (ulong)to >> shift, shift, failedDestUnmapped: s.Rc == -Errno.ENOMEM);
                break;
            case MremapStmt { NewAddr: long to } mr when s.Rc == -Errno.ENOMEM && _region is var (rs, rl) && PagesUp((ulong)mr.NewLength) != PagesUp(rl):
            {
                // mremap_to() unmaps the destination and a shrink's tail before the move, which can
                // then fail for want of a page table: what was unmapped stays unmapped.
                var proc = _procs[mr.Process];
                ulong newPages = PagesUp((ulong)mr.NewLength), oldPages = PagesUp(rl);
                proc.Unmap((ulong)to >> shift, ((ulong)to >> shift) + newPages);
                UnmapFileRanges(mr.Process, (ulong)to >> shift, ((ulong)to >> shift) + newPages);
                if (newPages < oldPages) proc.Unmap((rs >> shift) + newPages, (rs >> shift) + oldPages);
                break;
            }
            case ForkStmt f when s.Rc == 0:
                _procs[f.Child] = _procs[f.Process].Clone();
                if (_fileRanges.TryGetValue(f.Process, out var ranges)) _fileRanges[f.Child] = new(ranges);
                break;
        }
        return null;
    }

    /// <summary>The tokens of userfaultfd's page fills in the statement being applied.</summary>
    readonly HashSet<uint> _fillTokens = new();

    /// <summary>
    /// A write stores consecutive tokens into its pages in ascending order, up to where it stopped
    /// (skipping the tokens of pages a userfaultfd handler filled on the way).
    /// </summary>
    string? Stored(AccessStmt ac, ulong regionStart, uint stored, long rc, int shift)
    {
        ulong pageSize = 1UL << shift;
        ulong off = (ulong)ac.Offset, end = off + (ulong)ac.Length, step = (ulong)(ac.Step ?? ac.Length), each = (ulong)(ac.Each ?? (ac.Step is null ? ac.Length : 1));
        long total = 0;
        uint token = _tokenBefore;
        for (ulong a = off; a < end; a += step)
        {
            ulong first = (regionStart + a) >> shift, last = (regionStart + a + each + pageSize - 1) >> shift;
            for (ulong page = first; page < last; page++, total++)
            {
                if (total >= stored) continue;
                while (_fillTokens.Contains(token)) token++;
                Store(ac.Process, page, token++);
            }
        }
        if (stored > total) return $"'{ac.Text}' stored into {stored} pages, but it covers only {total}";
        if (rc == 0 && stored != total) return $"'{ac.Text}' returned 0 but stored into {stored} of its {total} pages";
        return null;
    }

    /// <summary>
    /// A fixed mremap of the same length that failed part way: remap_move() moves the range VMA by
    /// VMA, each through mremap_to() (the destination unmapped first), and one VMA stops it: with
    /// -ENOMEM the one whose page table could not be had (its destination was unmapped,
    /// <paramref name="failedDestUnmapped"/>), with -EFAULT a userfaultfd-armed one that may move only
    /// alone (refused before anything of it). Where that happened depends on memory the record does
    /// not follow, so it is taken from the model: the pages of the old range it no longer maps were
    /// moved (their contents and file pages with them), the first it still maps belongs to the VMA
    /// that stopped the move; what lies beyond was not touched.
    /// </summary>
    void PartlyMoved(ScenarioSession s, MremapStmt mr, ulong oldStart, ulong pages, ulong dest, int shift, bool failedDestUnmapped)
    {
        var proc = _procs[mr.Process];
        var mm = s.Process(mr.Process);
        ulong stop = oldStart + pages, failedEnd = stop;
        foreach (var (start, end) in proc.MappedWithin(oldStart, oldStart + pages))
        {
            for (ulong page = start; page < end && stop == oldStart + pages; page++)
                if (mm.FindVma(page << shift) is { } stayed) (stop, failedEnd) = (page, Math.Min(stayed.End >> shift, oldStart + pages));
            if (stop < oldStart + pages) break;
        }
        var fileMoved = FileRangesWithin(mr.Process, oldStart, stop);
        foreach (var (start, end) in proc.MappedWithin(oldStart, stop).ToList())
            for (ulong page = start; page < end; page++)
            {
                ulong to = dest + (page - oldStart);
                uint content = proc.Get(page);
                proc.Unmap(page, page + 1);
                proc.Unmap(to, to + 1);
                UnmapFileRanges(mr.Process, to, to + 1);
                proc.Map(to, to + 1);
                proc.Set(to, content);
            }
        UnmapFileRanges(mr.Process, oldStart, stop);
        var moved = _fileRanges.TryGetValue(mr.Process, out var now) ? now : _fileRanges[mr.Process] = new();
        foreach (var r in fileMoved) moved.Add(r with { Start = dest + (r.Start - oldStart), End = dest + (r.End - oldStart) });
        // the VMA that stopped it: with -ENOMEM its destination went; the rest of the range stays as it was
        if (failedDestUnmapped && stop < oldStart + pages)
        {
            proc.Unmap(dest + (stop - oldStart), dest + (failedEnd - oldStart));
            UnmapFileRanges(mr.Process, dest + (stop - oldStart), dest + (failedEnd - oldStart));
        }
    }

    /// <summary>mremap: the mapped parts of the old range move (holes stay holes), a grown tail reads zeroes, the old range is gone.</summary>
    string? Moved(MremapStmt mr, ulong oldStart, ulong oldPages, ulong newStart, ulong newPages, int shift)
    {
        var proc = _procs[mr.Process];
        // What MREMAP_FIXED replaces may have been a file mapping: it is gone from the record too.
        void Replace(ulong start, ulong end)
        {
            proc.Unmap(start, end);
            UnmapFileRanges(mr.Process, start, end);
        }
        var pieces = proc.MappedWithin(oldStart, oldStart + oldPages)
            .Select(r => (Off: r.Start - oldStart, Pages: r.End - r.Start, Content: Enumerable.Range(0, (int)(r.End - r.Start)).Select(i => proc.Get(r.Start + (ulong)i)).ToArray()))
            .ToList();
        // A file mapping moves with its file offset: the same file pages show at the new place.
        var filePieces = FileRangesWithin(mr.Process, oldStart, oldStart + oldPages);
        proc.Unmap(oldStart, oldStart + oldPages);
        UnmapFileRanges(mr.Process, oldStart, oldStart + oldPages);
        // MREMAP_FIXED replaces what was there; a move of the same length goes VMA by VMA (6.17's
        // remap_move()), so only the places the moved pieces land on are replaced.
        if (mr.NewAddr != null && newPages == oldPages)
            foreach (var (off, pages, _) in pieces) Replace(newStart + off, newStart + off + pages);
        else if (mr.NewAddr != null) Replace(newStart, newStart + newPages);
        else if (proc.AnyMapped(newStart, newStart + newPages))
            return $"mremap returned 0x{newStart << shift:x}, over memory the program still has mapped";
        foreach (var (off, pages, content) in pieces)
        {
            if (off >= newPages) continue;
            ulong n = Math.Min(pages, newPages - off);
            proc.Map(newStart + off, newStart + off + n);
            for (ulong i = 0; i < n; i++) proc.Set(newStart + off + i, content[i]);
        }
        var moved = _fileRanges.TryGetValue(mr.Process, out var now) ? now : _fileRanges[mr.Process] = new();
        foreach (var r in filePieces)
        {
            ulong off = r.Start - oldStart;
            if (off < newPages) moved.Add(r with { Start = newStart + off, End = newStart + Math.Min(r.End - oldStart, newPages) });
        }
        if (newPages > oldPages)
        {
            proc.Map(newStart + oldPages, newStart + newPages);
            // Growing takes one VMA: a file one goes on into its file.
            if (filePieces.Count > 0 && filePieces[^1] is var last && last.End == oldStart + oldPages)
                moved.Add(last with { Start = newStart + oldPages, End = newStart + newPages, PgOff = last.PgOff + (long)(last.End - last.Start) });
        }
        return null;
    }

    /// <summary>The model's VMAs cover what the programs have mapped, and every page reads what the record says.</summary>
    string? Compare(ScenarioSession s)
    {
        var k = s.Kernel;
        int shift = k.Geo.PageShift;
        Span<uint> actual = stackalloc uint[512], wanted = stackalloc uint[512];
        foreach (var (name, proc) in _procs)
        {
            var mm = s.Process(name);
            var vmas = new List<(ulong Start, ulong End)>();
            foreach (var v in mm.Vmas)
                if (vmas.Count > 0 && vmas[^1].End == v.Start >> shift) vmas[^1] = (vmas[^1].Start, v.End >> shift);
                else vmas.Add((v.Start >> shift, v.End >> shift));
            if (!vmas.SequenceEqual(proc.Mapped))
                return $"process {name}: the model's VMAs cover {Ranges(vmas, shift)}, but the program has mapped {Ranges(proc.Mapped, shift)}";
            bool anyFile = _fileRanges.TryGetValue(name, out var fileRanges) && fileRanges.Count > 0;
            foreach (var (start, end) in proc.Mapped)
                for (ulong page = start; page < end;)
                {
                    int n = (int)Math.Min((ulong)PageTokens.InBlock(page), end - page);
                    var got_ = actual[..n];
                    k.ContentRun(mm, page << shift, got_);
                    var want_ = anyFile ? WantRun(proc, fileRanges!, page, wanted[..n]) : proc.Run(page, n);
                    ulong at = page;
                    page += (ulong)n;
                    // A block the same as the record (or zeroes where it holds nothing) is compared vector-wide.
                    if (want_.IsEmpty ? !got_.ContainsAnyExcept(0u) : want_.SequenceEqual(got_)) continue;
                    for (int i = 0; i < n; i++)
                    {
                        var sharedPage = SharedPage(name, at + (ulong)i);
                        uint want = Want(name, at + (ulong)i), got = actual[i];
                        if (got == want) continue;
                        if ((want & ReferenceProcess.OldOrZero) != 0 && (got == 0 || got == (want & ~ReferenceProcess.OldOrZero)))
                        {
                            // Discarded once, zeroes for good; still old, it may be discarded later.
                            if (got == 0)
                            {
                                if (sharedPage is var (k2, i2)) FileContent(k2).Set((ulong)i2, 0); else proc.Set(at + (ulong)i, 0);
                            }
                            continue;
                        }
                        return $"process {name} reads {Content(got)} at 0x{(at + (ulong)i) << shift:x}, but must read {Content(want)}";
                    }
                }
        }
        return null;
    }

    /// <summary>
    /// For tests: the first page of a process's file-mapped ranges where the block-at-a-time
    /// expectation (<see cref="WantRun"/>, compared first) differs from the page-by-page one
    /// (<see cref="Want"/>, which alone decides a failure: a block that wrongly agreed with the model
    /// would hide one), or null; <paramref name="pages"/>: the pages compared.
    /// </summary>
    internal (string Process, ulong Page)? FirstWantRunDisagreement(out long pages)
    {
        pages = 0;
        Span<uint> buffer = stackalloc uint[512];
        foreach (var (name, proc) in _procs)
        {
            if (!_fileRanges.TryGetValue(name, out var fileRanges) || fileRanges.Count == 0) continue;
            foreach (var (start, end) in proc.Mapped)
                for (ulong page = start; page < end;)
                {
                    int n = (int)Math.Min((ulong)PageTokens.InBlock(page), end - page);
                    var run = WantRun(proc, fileRanges, page, buffer[..n]);
                    for (int i = 0; i < n; i++)
                        if (run[i] != Want(name, page + (ulong)i)) return (name, page + (ulong)i);
                    pages += n;
                    page += (ulong)n;
                }
        }
        return null;
    }

    /// <summary><see cref="Want"/> of each page of a run inside one block, into <paramref name="buffer"/>.</summary>
    ReadOnlySpan<uint> WantRun(ReferenceProcess proc, List<FileRange> fileRanges, ulong page, Span<uint> buffer)
    {
        var own = proc.Run(page, buffer.Length);
        if (own.IsEmpty) buffer.Clear(); else own.CopyTo(buffer);
        ulong end = page + (ulong)buffer.Length;
        foreach (var r in fileRanges)
        {
            ulong lo = Math.Max(r.Start, page), hi = Math.Min(r.End, end);
            if (lo >= hi) continue;
            var file = FileContent(r.Key);
            // a block of the file's record at a time
            for (ulong p = lo; p < hi;)
            {
                ulong index = (ulong)r.PgOff + (p - r.Start);
                int n = (int)Math.Min(hi - p, (ulong)PageTokens.InBlock(index));
                var from = file.Run(index, n);
                var to = buffer.Slice((int)(p - page), n);
                if (r.Shared) { if (from.IsEmpty) to.Clear(); else from.CopyTo(to); }
                else if (!from.IsEmpty)
                    for (int i = 0; i < n; i++)
                        if (to[i] == 0) to[i] = from[i];
                p += (ulong)n;
            }
        }
        buffer.Replace(OwnZero, 0u);
        buffer.Replace(OwnZeroPage, 0u);
        return buffer;
    }

    static string Content(uint c) =>
        c == 0 ? "zeroes"
        : (c & ReferenceProcess.OldOrZero) != 0 ? $"store #{c & ~ReferenceProcess.OldOrZero} or zeroes"
        : $"store #{c}";

    static string Ranges(IEnumerable<(ulong Start, ulong End)> ranges, int shift) =>
        ranges.Any() ? string.Join(" ", ranges.Select(r => $"0x{r.Start << shift:x}-0x{r.End << shift:x}")) : "nothing";
}
