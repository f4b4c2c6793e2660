using System.Numerics;
using MthpSim.Core.Fault;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// What a program's loads and stores do: fault when the entry does not allow the access, then touch.
public sealed partial class Kernel
{
    /// <summary>
    /// Touches every base page of [start, end) in ascending order, as loads (read) or stores (write).
    /// A store gives the page new content. Returns 0, -EFAULT at the first page without a mapping or
    /// permission (the program would get SIGSEGV there), or -ENOMEM when even an order-0 page is lacking.
    /// Pages whose entry already allows the access take no fault, as on the CPU: they are handled a
    /// PMD mapping or a run of PTEs at a time. A fault userfaultfd's reader leaves unresolved stops
    /// the access with -EAGAIN (the program would wait there).
    /// </summary>
    public long Access(MmStruct mm, ulong start, ulong end, bool write) => Access(mm, start, end, write, out _);

    /// <summary>As <see cref="Access(MmStruct, ulong, ulong, bool)"/>; <paramref name="stoppedAt"/> is the page an error stopped at (every page before it was touched).</summary>
    public long Access(MmStruct mm, ulong start, ulong end, bool write, out ulong stoppedAt)
    {
        stoppedAt = start;
        if (end <= start) return 0;   // no byte: no page is touched
        using var cost = ChargeTo(mm, Cost.CostOp.Fault);
        long rc = AccessPages(mm, start, end, write, out stoppedAt);
        if (rc == -Errno.EFAULT) ForceSigFault(mm);   // the program gets SIGSEGV or SIGBUS
        return rc;
    }

    // The loop of Access, outside its try/finally (the cost scope), so that the JIT keeps its locals in registers.
    long AccessPages(MmStruct mm, ulong start, ulong end, bool write, out ulong stoppedAt)
    {
        ulong pageSize = (ulong)Geo.PageSize, pmdSize = (ulong)Geo.PmdSize;
        ulong need = write ? Pte.Present | Pte.Write : Pte.Present;
        Vma.Vma? vma = null;
        ulong addr = start & ~(pageSize - 1), faultedAt = ulong.MaxValue;
        stoppedAt = addr;
        int faultsHere = 0;
        while (addr < end)
        {
            stoppedAt = addr;
            if (_timedMs != null)
            {
                if (addr >= _timedQuietEnd) return 0;   // background work is due by this page's time: the caller lets it run first
                TimedReach(addr);
            }
            if (vma == null || addr >= vma.End || addr < vma.Start)
            {
                vma = mm.FindVma(addr);
                if (vma == null || !VmaPermits(vma, write)) return -Errno.EFAULT;
            }
            ulong runEnd = Math.Min(Math.Min(end, vma.End), (addr & ~(pmdSize - 1)) + pmdSize);
            if (_timedMs != null) runEnd = Math.Min(runEnd, _timedQuietEnd);
            int pages = (int)((runEnd - addr + pageSize - 1) >> PageShift);
            var slot = mm.PageTables.Find(PmdIndex(addr));
            if (slot != null)
            {
                if (slot.Kind is PmdKind.Huge or PmdKind.HugeZero)
                {
                    if (!write || Pte.IsWrite(slot.Leaf))
                    {
                        slot.Leaf |= Pte.Young | (write ? Pte.Dirty : 0);
                        if (write)
                        {
                            uint first = _nextToken;
                            StoreRun(slot, PteIndex(addr), Pte.Pfn(slot.Leaf) + PteIndex(addr), pages);
                            if (vma.IsShared) vma.File?.RecordContent(LinearPageIndex(vma, addr), pages, first);
                        }
                        addr = runEnd;
                        continue;
                    }
                }
                else if (slot.Kind == PmdKind.Table && (slot.Ptes![PteIndex(addr)] & need) == need)
                {
                    uint first = _nextToken;
                    int touched = TouchPtes(slot, PteIndex(addr), pages, write);
                    // A store to shared memory is what every process mapping the file reads back.
                    if (write && vma is { File: not null, IsShared: true }) vma.File.RecordContent(LinearPageIndex(vma, addr), touched, first);
                    addr += (ulong)touched << PageShift;
                    continue;
                }
            }
            // The access faults; once the fault has made the entry allow it, the CPU retries the
            // access, which the next turn of the loop touches together with the rest of the run. A
            // fault that backed off (its PTE changed while it allocated, e.g. under reclaim) is taken again.
            if (addr != faultedAt) (faultedAt, faultsHere) = (addr, 0);
            else if (++faultsHere > 3) throw new InvalidOperationException($"fault at {addr:x} made no progress");
            if (write && vma.File == null && !UserfaultfdArmed(vma) && slot is { Kind: PmdKind.Table } && Pte.IsNone(slot.Ptes![PteIndex(addr)]))
            {
                // handle_pte_fault() hands a pte_none entry of a private anonymous VMA to
                // do_anonymous_page(): that fault and the stores and faults after it, as below, without
                // looking the PMD and the entry up again on the way down.
                var run = AnonWriteFaultRun(vma, ref addr, runEnd);
                // A fault that backed off left addr where it was; the way below takes it once more here.
                if (run == FaultResult.Ok && addr == faultedAt) run = AnonWriteFaultRun(vma, ref addr, runEnd);
                stoppedAt = addr;
                if (run == FaultResult.Oom) return FaultOomRc(mm);
                if (run != FaultResult.Ok) return -Errno.EFAULT;
                continue;
            }
            var r = HandleMmFault(vma, addr, write);
            // x86 do_user_addr_fault(): a fault under the per-VMA lock that returned VM_FAULT_RETRY
            // (userfaultfd resolved it) is taken again at once under mmap_lock, with FAULT_FLAG_TRIED
            // only if it was major; that one is counted, even when it finds the page mapped.
            for (int retries = 0; r == FaultResult.Retry; retries++)
            {
                if (retries > 3) throw new InvalidOperationException($"userfaultfd fault at {addr:x} made no progress");
                r = HandleMmFault(vma, addr, write, tried: _faultMajor);
            }
            if (r == FaultResult.Ok)
            {
                if (_timedMs != null) { TimedQuietFrom(addr); runEnd = Math.Min(runEnd, _timedQuietEnd); }
                if (write) { r = AnonWriteFaultRun(vma, ref addr, runEnd); stoppedAt = addr; }
                else ZeroPageFaultRun(vma, addr, runEnd);
            }
            if (r == FaultResult.Blocked) return -Errno.EAGAIN;   // nobody resolved it: the program waits
            if (r == FaultResult.Oom) return FaultOomRc(mm);
            if (r != FaultResult.Ok) return -Errno.EFAULT;
        }
        stoppedAt = end;
        return 0;
    }

    /// <summary>
    /// The stores that follow a write fault at <paramref name="addr"/>, up to <paramref name="end"/>
    /// (one table, one private anonymous VMA without userfaultfd): each page is stored to once its
    /// entry allows it, and each pte_none entry met on the way faults. Such a fault is what
    /// handle_pte_fault() hands to do_anonymous_page(), so that is called directly, and counted as
    /// handle_mm_fault() counts it: the same faults in the same order, without looking the VMA, the
    /// PMD and the table up again for each. Stops with addr at the first page it leaves to the
    /// caller (any other entry, a second fault at one address), or at a fault that did not return
    /// Ok, whose result it returns.
    /// </summary>
    FaultResult AnonWriteFaultRun(Vma.Vma vma, ref ulong addr, ulong end)
    {
        if (vma.File != null || UserfaultfdArmed(vma)) return FaultResult.Ok;
        MmStruct mm = vma.Mm;
        long pmdIndex = PmdIndex(addr);
        ulong faulted = ulong.MaxValue;
        // nothing to charge, and order 0 at every address of the VMA, or large folios of the allowed orders: a run of faults can be batched
        ulong allowed = ThpVmaAllowableOrders(vma, TvaType.PageFault, (1UL << Geo.PmdOrder) - 1);
        bool smallRuns = mm.Memcg == null && allowed == 0;
        ulong largeRuns = mm.Memcg == null && LargeFaultRuns ? allowed : 0;
        while (addr < end)
        {
            var slot = mm.PageTables.Find(pmdIndex);
            if (slot is not { Kind: PmdKind.Table }) break;
            int idx = PteIndex(addr);
            ulong pte = slot.Ptes![idx];
            if ((pte & (Pte.Present | Pte.Write)) == (Pte.Present | Pte.Write))
            {
                int pages = (int)((end - addr + (ulong)Geo.PageSize - 1) >> PageShift);
                addr += (ulong)TouchPtes(slot, idx, pages, write: true) << PageShift;
                continue;
            }
            if (!Pte.IsNone(pte) || addr == faulted) break;
            if (smallRuns)
            {
                int batched = AnonWriteFaultSmallRun(vma, slot, idx, (int)Math.Min((end - addr + (ulong)Geo.PageSize - 1) >> PageShift, (ulong)(Geo.PtrsPerPte - idx)), addr);
                if (batched > 0)
                {
                    addr += (ulong)batched << PageShift;
                    faulted = addr - (ulong)Geo.PageSize;
                    continue;
                }
            }
            else if (largeRuns != 0)
            {
                int batched = AnonWriteFaultLargeRun(vma, slot, idx, (int)Math.Min((end - addr) >> PageShift, (ulong)(Geo.PtrsPerPte - idx)), addr, largeRuns);
                if (batched > 0)
                {
                    addr += (ulong)batched << PageShift;
                    faulted = addr - (ulong)Geo.PageSize;
                    continue;
                }
            }
            faulted = addr;
            _faultMajor = false;
            if (_timedMs != null) TimedReach(addr);
            var r = DoAnonymousPage(vma, slot, addr, write: true);
            MmAccountFault(mm, r, tried: false);
            if (r != FaultResult.Ok) return r;
            if (_timedMs != null) { TimedQuietFrom(addr); end = Math.Min(end, _timedQuietEnd); }
            // The store to the page the fault mapped, and to the pages after it as far as their
            // entries allow (the rest of the folio it mapped, with the tokens that follow)
            int left = (int)((end - addr + (ulong)Geo.PageSize - 1) >> PageShift);
            const ulong writable = Pte.Present | Pte.Write;
            int stored = left > 1 && (slot.Ptes[idx + 1] & writable) == writable   // a large folio
                ? TouchPtes(slot, idx, left, write: true)
                : TouchPte(slot, idx, writable, Pte.Young | Pte.Dirty, write: true);
            addr += (ulong)stored << PageShift;
        }
        return FaultResult.Ok;
    }

    /// <summary>
    /// The write faults of <see cref="AnonWriteFaultRun"/> on the pte_none entries from
    /// <paramref name="idx"/> on (at most <paramref name="max"/>), when each would be
    /// do_anonymous_page() mapping a new order-0 folio with nothing charged, and the store that
    /// follows each: the folios are allocated first (<see cref="AllocSmallFolios"/>), then each is
    /// mapped, counted and stored to in page order, as those faults would have. Returns how many
    /// it took; 0 leaves the next fault to the usual way (a single one, or an allocation that needs
    /// more than the fast path).
    /// </summary>
    int AnonWriteFaultSmallRun(Vma.Vma vma, PmdSlot slot, int idx, int max, ulong addr)
    {
        var ptes = slot.Ptes!;
        int n = 1;
        while (n < max && Pte.IsNone(ptes[idx + n])) n++;
        AnonVmaPrepare(vma);   // cannot fail: a run is taken only where nothing is charged
        Span<int> heads = stackalloc int[n];
        int got = AllocSmallFolios(PageKind.Anon, heads);
        if (got == 0) return 0;
        ulong flags = Pte.Young | MkWriteDirty(vma);
        // each page's store takes the next token, in page order
        uint token = NextTokens(got);
        for (int i = 0, run; i < got; i += run)
        {
            // FolioAddNewAnonRmap() of each order-0 folio of a run at consecutive frames, its entry, and the store
            int pfn = heads[i];
            run = ConsecutiveFrames(heads[..got], i);
            Map.SetRange(pfn, run, PageFlags.AnonExclusive);
            Map.MapNewFolioPages(pfn, run);
            Map.SetContentRun(pfn, run, token + (uint)i);
            for (int j = i; j < i + run; j++) ptes[idx + j] = Pte.Make(pfn + j - i, flags);
            if (Lru == null && SmallRmap == null && Geo.ContPtes == 0) continue;
            for (int j = i; j < i + run; j++)
            {
                int head = pfn + j - i;
                SetSmallAnonRmap(head, vma, addr + ((ulong)j << PageShift));
                LruAdd(head);
                ContSetPtes(slot, idx + j, 1);   // the fold looks at entries up to j only
            }
        }
        if (TrackExpectedContent) ContentTokens.FillSequence(ExpectedForWrite(slot).AsSpan(idx, got), token);
        // the counts of that many faults, each of one page (do_anonymous_page(), mm_account_fault())
        MmStruct mm = vma.Mm;
        Work(Cost.KernelWork.PagesZeroed, got);
        mm.Rss[(int)RssMember.AnonPages] += got;
        Work(Cost.KernelWork.RmapFolios, got);
        Work(Cost.KernelWork.RmapPages, got);
        NrAnonMapped += got;
        Work(Cost.KernelWork.PteBatches, got);
        Work(Cost.KernelWork.Ptes, got);
        Stats.Count(VmEvent.PgFault, got);
        Work(Cost.KernelWork.Faults, got);
        mm.MinFlt += got;
        _faultMajor = false;
        return got;
    }

    /// <summary>Whether <see cref="AnonWriteFaultLargeRun"/> is used (tests turn it off to compare with one fault at a time).</summary>
    internal bool LargeFaultRuns { get; set; } = true;

    /// <summary>
    /// The write faults of <see cref="AnonWriteFaultRun"/> from <paramref name="idx"/> on (at most
    /// <paramref name="max"/> pages, whole blocks only) when each would be do_anonymous_page()
    /// mapping a new large folio of one order (the one alloc_anon_folio() picks at the first, which
    /// must start its block) with nothing charged, and the stores that follow each: the folios are
    /// allocated first (<see cref="AllocLargeFolios"/>, the fast path only), then each is mapped,
    /// counted and stored to in page order, as those faults would have. Returns the pages it took; 0
    /// leaves the next fault to the usual way.
    /// </summary>
    int AnonWriteFaultLargeRun(Vma.Vma vma, PmdSlot slot, int idx, int max, ulong addr, ulong allowed)
    {
        ulong orders = AnonFaultOrders(vma, slot, addr, allowed);
        if (orders == 0) return 0;
        int order = HighestOrder(orders), nr = 1 << order;
        if ((idx & (nr - 1)) != 0 || max < 2 * nr) return 0;   // one folio gains nothing
        int n = 1;
        while ((n + 1) * nr <= max && HighestOrderOrZero(AnonFaultOrders(vma, slot, addr + ((ulong)(n * nr) << PageShift), allowed)) == order) n++;
        AnonVmaPrepare(vma);   // cannot fail: a run is taken only where nothing is charged
        Span<int> heads = stackalloc int[n];
        int got = AllocLargeFolios(order, PageKind.Anon, heads);
        if (got == 0) return 0;
        MmStruct mm = vma.Mm;
        ulong flags = Pte.Young | MkWriteDirty(vma);
        var ptes = slot.Ptes!;
        for (int i = 0; i < got; i++)
        {
            // do_anonymous_page() with the folio alloc_anon_folio() got, then the store that follows
            int head = heads[i], first = idx + i * nr;
            Work(Cost.KernelWork.PagesZeroed, nr);   // folio_zero_user()
            Map.AddRef(head, nr - 1);
            mm.Rss[(int)RssMember.AnonPages] += nr;
            Stats.Count(order, MthpStat.AnonFaultAlloc);
            FolioAddNewAnonRmap(head, vma, addr + ((ulong)(i * nr) << PageShift), pmdMapped: false);
            for (int j = 0; j < nr; j++) ptes[first + j] = Pte.Make(head + j, flags);
            SetPtesWork(nr);
            ContSetPtes(slot, first, nr);
            _faultMajor = false;
            MmAccountFault(mm, FaultResult.Ok, tried: false);
            TouchPtes(slot, first, nr, write: true);
        }
        return got * nr;

        static int HighestOrderOrZero(ulong orders) => orders == 0 ? 0 : HighestOrder(orders);
    }

    /// <summary>
    /// The read faults on the pte_none entries that follow <paramref name="addr"/> up to
    /// <paramref name="end"/> (one table, one VMA), once the read fault at addr mapped the shared zero
    /// page: do_anonymous_page() maps the zero page at each of them and allocates nothing, so nothing
    /// can change between them. They are taken in one step, with the entries and counts (pgfault,
    /// min_flt) of that many faults.
    /// </summary>
    void ZeroPageFaultRun(Vma.Vma vma, ulong addr, ulong end)
    {
        if (vma.File != null || UserfaultfdArmed(vma)) return;
        var slot = vma.Mm.PageTables.Find(PmdIndex(addr));
        if (slot is not { Kind: PmdKind.Table }) return;
        var ptes = slot.Ptes!;
        int first = PteIndex(addr);
        if (ptes[first] != Pte.ZeroPage) return;
        int last = first + (int)((end - addr + (ulong)Geo.PageSize - 1) >> PageShift);
        int k = first + 1;
        while (k < last && ptes[k] == 0) ptes[k++] = Pte.ZeroPage;
        int n = k - first - 1;
        if (n == 0) return;
        Stats.Count(VmEvent.PgFault, n);
        vma.Mm.MinFlt += n;
        Work(Cost.KernelWork.Faults, n);
        Work(Cost.KernelWork.PteBatches, n);   // each of those faults set one entry
        Work(Cost.KernelWork.Ptes, n);
    }

    /// <summary>
    /// An atomic read-modify-write of every base page of [start, end) in ascending order: a store. On
    /// x86_64 (and on arm64 with <see cref="Arch.RmwFaults.Write"/>) a page it may not write takes one
    /// write fault. On arm64 as 6.18's do_page_fault() has it, the abort of an atomic on a page without
    /// an entry reads as a load: the page takes a read fault (mapping the shared or huge zero page
    /// where reads do), and then, not yet writable, a write fault on what the read mapped.
    /// </summary>
    public long AtomicRmw(MmStruct mm, ulong start, ulong end)
    {
        if (Geo.Arch != Arch.CpuArch.Arm64 || Config.Rmw == Arch.RmwFaults.Write) return Access(mm, start, end, write: true);
        ulong pageSize = (ulong)Geo.PageSize;
        for (ulong page = start & ~(pageSize - 1); page < end; page += pageSize)
        {
            ulong from = Math.Max(page, start), to = Math.Min(page + pageSize, end);
            long rc = Access(mm, from, to, write: false);
            if (rc == 0) rc = Access(mm, from, to, write: true);
            if (rc != 0) return rc;
        }
        return 0;
    }

    /// <summary>
    /// models faultin_page() as GUP loops on it: faults until the page is mapped with the access's
    /// permission (a fault that backed off, e.g. because reclaim for its charge took the page it was
    /// copying, is taken again). 0, -EFAULT, or what a failed allocation means (<see cref="FaultOomRc"/>).
    /// </summary>
    long FaultIn(Vma.Vma vma, ulong addr, bool write)
    {
        bool tried = false;
        for (int tries = 0; !MappedWith(vma.Mm, addr, write); tries++)
        {
            if (tries > 3) throw new InvalidOperationException($"fault at {addr:x} made no progress");
            var r = HandleMmFault(vma, addr, write, tried);
            // GUP retries a VM_FAULT_RETRY with FOLL_TRIED (a major fault, then)
            if (r == FaultResult.Retry) { tried = true; continue; }
            if (r == FaultResult.Blocked)
                throw new NotSupportedException($"a populate or pin that faults on a userfaultfd range nobody resolves (handler=none, at 0x{addr:x}) would wait forever; not modelled");
            if (r == FaultResult.Oom) return FaultOomRc(vma.Mm);
            if (r != FaultResult.Ok) return -Errno.EFAULT;
        }
        return 0;
    }

    internal static bool VmaPermits(Vma.Vma vma, bool write) =>
        (vma.Flags & (write ? VmFlags.Write : VmFlags.Read)) != 0;

    /// <summary>
    /// Touches PTEs [first, first + count) of a table as long as each already allows the access (no
    /// fault in the kernel either); returns how many it touched before the first that needs a fault.
    /// </summary>
    int TouchPtes(PmdSlot slot, int first, int count, bool write)
    {
        var ptes = slot.Ptes!;
        ulong need = write ? Pte.Present | Pte.Write : Pte.Present;
        ulong set = write ? Pte.Young | Pte.Dirty : Pte.Young;
        if (count == 1) return TouchPte(slot, first, need, set, write);
        int i = first, end = first + count;
        // Entries that already have every bit the access needs and sets are only read, a vector at a time.
        if (Vector.IsHardwareAccelerated)
        {
            var all = new Vector<ulong>(need | set);
            for (; i + Vector<ulong>.Count <= end; i += Vector<ulong>.Count)
                if (!Vector.EqualsAll(new Vector<ulong>(ptes, i) & all, all)) break;
        }
        for (; i < end; i++)
        {
            ulong pte = ptes[i];
            if ((pte & need) != need) break;
            if ((pte & set) != set) ptes[i] = pte | set;
        }
        int n = i - first;
        ContSpreadAccessBits(slot, first, n, set);   // the bits of a folded block are the block's
        if (!write || n == 0) return n;
        // The stores, in page order: consecutive tokens, a run of physically consecutive pages at a time.
        uint token = NextTokens(n);
        for (int k = first; k < i;)
        {
            // entries a store was allowed through are normal: the zero page's are never writable
            int pfn = Pte.Pfn(ptes[k]), run = 1 + Pte.ConsecutiveNormal(ptes.AsSpan(k + 1, i - k - 1), pfn + 1);
            Map.SetContentRun(pfn, run, token + (uint)(k - first));
            k += run;
        }
        if (TrackExpectedContent) ContentTokens.FillSequence(ExpectedForWrite(slot).AsSpan(first, n), token);
        return n;
    }

    /// <summary>TouchPtes of one entry (a sparse access, the last page of a run), without the loops.</summary>
    int TouchPte(PmdSlot slot, int idx, ulong need, ulong set, bool write)
    {
        ulong pte = slot.Ptes![idx];
        if ((pte & need) != need) return 0;
        if ((pte & set) != set) ContSetAccessBits(slot, idx, set);
        if (write) StoreRun(slot, idx, Pte.Pfn(pte), 1);
        return 1;
    }

    /// <summary>Stores to <paramref name="n"/> consecutive pages of one folio mapped at PTE indexes from <paramref name="idx"/>.</summary>
    void StoreRun(PmdSlot slot, int idx, int pfn, int n)
    {
        if (n == 1)
        {
            // one page (a fault's, a sparse touch): two stores, not two span operations
            uint token = NextTokens(1);
            Map.SetContent(pfn, token);
            if (TrackExpectedContent) ExpectedForWrite(slot)[idx] = token;
            return;
        }
        uint first = NextTokens(n);
        Map.SetContentRun(pfn, n, first);
        if (!TrackExpectedContent) return;
        ContentTokens.FillSequence(ExpectedForWrite(slot).AsSpan(idx, n), first);
    }

    /// <summary>Whether addr is mapped so that the access needs no fault (for MADV_POPULATE_*).</summary>
    bool MappedWith(MmStruct mm, ulong addr, bool write)
    {
        var slot = mm.PageTables.Find(PmdIndex(addr));
        if (slot == null) return false;
        ulong e = slot.Kind switch
        {
            PmdKind.Huge or PmdKind.HugeZero => slot.Leaf,
            PmdKind.Table => slot.Ptes![PteIndex(addr)],
            _ => 0,
        };
        return Pte.IsPresent(e) && (!write || Pte.IsWrite(e));
    }

    /// <summary>models exit_mmap(): unmaps everything; the process is gone.</summary>
    public void Exit(MmStruct mm)
    {
        using var cost = ChargeTo(mm, Cost.CostOp.Exit);
        foreach (var vma in mm.Vmas.ToList()) DoMunmap(mm, vma.Start, vma.End - vma.Start);
        Work(Cost.KernelWork.TlbFlushes);   // tlb_finish_mmu() of the whole mm
        UnpinAll(mm);
        mm.Exited = true;
        mm.Memcg?.Members.Remove(mm);
        KhugepagedExit(mm);
        _mms.Remove(mm);
        ReleaseUnmappedAnonShmem();
    }
}
