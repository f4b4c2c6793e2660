using MthpSim.Core.Folio;
using MthpSim.Core.PageAlloc;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Core.Debug;

/// <summary>
/// Recounts the whole machine from the page tables and compares with what the model keeps
/// incrementally: every mapped page belongs to a live folio, per-page and entire mapcounts equal the
/// mappings that exist, refcounts cover mapcounts, free memory is consistent and unmapped, RSS and
/// vmstat gauges equal a recount, and every page reads back what its program stored.
/// </summary>
/// <remarks>
/// Every check is a full recount, each time. It is cheap because the recount keeps its tallies in
/// arrays indexed by PFN that one checker reuses from check to check (the fuzzer runs it after every
/// statement), walks only populated PMD slots, and visits each page frame below the frontier once.
/// </remarks>
public sealed class InvariantChecker
{
    /// <summary>What the recount found per folio, indexed by head PFN.</summary>
    struct FolioTally
    {
        /// <summary>PMD mappings of the folio.</summary>
        public int PmdMaps;
        /// <summary>Mms that map the folio.</summary>
        public int Mms;
        /// <summary>Mappings by the mm in the folio's MM_ID slot 0 and slot 1.</summary>
        public int Slot0, Slot1;
    }

    const PageFlags FolioFlags = PageFlags.PartiallyMapped | PageFlags.DeferredQueued | PageFlags.LazyFree | PageFlags.Dirty | PageFlags.Referenced | PageFlags.Active;

    int[] _pteMaps = [];
    int[] _pins = [];
    FolioTally[] _folios = [];
    /// <summary>Mappings of each folio (by head) by the mm being walked, folded into <see cref="_folios"/> when its walk ends.</summary>
    int[] _thisMm = [];
    /// <summary>Folios the walk mapped, once per mm that maps them: what <see cref="_folios"/> holds and the next check clears.</summary>
    int[] _touched = new int[64];
    int _nTouched, _mmTouchedFrom;
    /// <summary>Free list entries already counted in this check.</summary>
    readonly MarkSet _listed = new();
    /// <summary>Folios found on an LRU list in this check.</summary>
    readonly MarkSet _onLru = new();
    /// <summary>Pin tallies at and above this index are zero (0: no pins): only what the last check wrote is cleared.</summary>
    int _dirtyEnd;
    /// <summary>Highest PFN a mapping was tallied at in this check (-1: none); no tally above it is written.</summary>
    int _maxTallied = -1;
    /// <summary>PTE mappings tallied in this check, and whether the folio walk zeroed every one of them.</summary>
    long _pteTallies;
    bool _pteMapsZeroed;
    /// <summary>The walk of the current mm found a page inside a VMA that does not read what the program stored.</summary>
    bool _contentLost;
    /// <summary>Shmem pages the walk of the current mm found mapped (its MM_SHMEMPAGES).</summary>
    long _shmemRss;
    /// <summary>Swap entries found per slot, and those the current mm's walk found (its MM_SWAPENTS).</summary>
    int[] _swapRefs = [];
    /// <summary>The slots with a count in <see cref="_swapRefs"/>, as found (sorted before they are reported).</summary>
    readonly List<int> _swapRefSlots = new();
    /// <summary>Swap slots the swap cache holds, found from its folios.</summary>
    readonly MarkSet _cachedSlots = new();
    long _swapEnts;
    /// <summary>A file's swap entries and folios, listed into the same lists from check to check.</summary>
    readonly List<(long Index, int Offset, int Order)> _fileSwapEntries = new();
    readonly List<(long Index, int Head)> _fileFolios = new();
    /// <summary>A check is under way (still set at the next check: the last one threw).</summary>
    bool _running;

    /// <summary>All violations found (empty when the machine is consistent), with a checker of its own.</summary>
    public static List<string> Check(Kernel k, bool checkContents = true) => new InvariantChecker().Run(k, checkContents);

    /// <summary>All violations found (empty when the machine is consistent); reuses this checker's tallies.</summary>
    public List<string> Run(Kernel k, bool checkContents = true)
    {
        var errors = new List<string>();
        var map = k.Map;
        Reset(map.Capacity);
        _running = true;
        long pageTablesSeen = 0;

        foreach (var mm in k.Processes)
        {
            foreach (var e in mm.Vmas.Validate()) errors.Add($"{mm.Name}: VMA tree: {e}");
            _shmemRss = 0;
            _swapEnts = 0;
            long rss = WalkPageTables(k, mm, ref pageTablesSeen, errors) - _shmemRss;
            if (_swapEnts != mm.Rss[(int)RssMember.SwapEnts])
                errors.Add($"{mm.Name}: RSS swap entries counter {mm.Rss[(int)RssMember.SwapEnts]} != {_swapEnts} swap entries");
            if (rss != mm.Rss[(int)RssMember.AnonPages])
                errors.Add($"{mm.Name}: RSS anon counter {mm.Rss[(int)RssMember.AnonPages]} != {rss} pages mapped");
            if (_shmemRss != mm.Rss[(int)RssMember.ShmemPages])
                errors.Add($"{mm.Name}: RSS shmem counter {mm.Rss[(int)RssMember.ShmemPages]} != {_shmemRss} pages mapped");
            // The walk noticed lost content; which page of each VMA comes first is found only then.
            if (checkContents && _contentLost)
                foreach (var vma in mm.Vmas.Where(v => v.File == null))
                    if (FirstCorruptPage(k, mm, vma) is (ulong bad, uint actual))
                        errors.Add($"{mm.Name}: page at {bad:x} holds content {actual}, the program expects {k.ExpectedAt(mm, bad) & ~PmdSlot.MaybeZero}");
        }

        CheckMemcgs(k, errors);
        CheckLru(k, errors);
        TallyPins(k);
        long freeKinds = CheckFolios(k, pageTablesSeen, errors);
        CheckShmemSwapEntries(k, errors);
        CheckSwap(k, errors);
        CheckBuddy(k, freeKinds, errors);
        _running = false;
        return errors;
    }

    /// <summary>Sizes the tallies to the memmap and zeroes what the previous check wrote.</summary>
    void Reset(int capacity)
    {
        // A check that threw (on a machine corrupt enough to index outside it) left tallies anywhere.
        if (_pteMaps.Length < capacity || _running)
        {
            capacity = Math.Max(capacity, _pteMaps.Length);
            _pteMaps = new int[capacity];
            _pins = new int[capacity];
            _folios = new FolioTally[capacity];
            _thisMm = new int[capacity];
        }
        else
        {
            if (!_pteMapsZeroed) Array.Clear(_pteMaps, 0, _maxTallied + 1);
            Array.Clear(_pins, 0, _dirtyEnd);
            for (int i = 0; i < _nTouched; i++) _folios[_touched[i]] = default;
        }
        _nTouched = 0;
        foreach (int slot in _swapRefSlots) _swapRefs[slot] = 0;
        _swapRefSlots.Clear();
        _cachedSlots.Clear();
        _dirtyEnd = 0;
        _pteTallies = 0;
        _pteMapsZeroed = false;
        _maxTallied = -1;
    }

    /// <summary>
    /// Checks and tallies every populated PMD slot of one mm, in address order; returns the anon
    /// pages it maps. Slots are found through the VMAs (free_pgtables() leaves none outside them);
    /// any that are not are walked after, so a stray slot is still checked.
    /// </summary>
    long WalkPageTables(Kernel k, MmStruct mm, ref long pageTablesSeen, List<string> errors)
    {
        long rss = 0;
        int visited = 0;
        long done = long.MinValue;
        _mmTouchedFrom = _nTouched;
        _contentLost = false;
        CheckUpperTables(k, mm, ref pageTablesSeen, errors);
        // Sparse VMAs (a large mapping barely touched): walking their PMD indexes would cost more than sorting the slots.
        long spanned = 0;
        foreach (var vma in mm.Vmas)
        {
            if (vma.End > vma.Start) spanned += k.PmdIndex(vma.End - 1) - k.PmdIndex(vma.Start) + 1;
            if ((vma.Flags & VmFlags.UffdArmed) != 0 && mm.Uffd == null)
                errors.Add($"{mm.Name}: VMA {vma} is registered with userfaultfd, but the process has none");
        }
        if (spanned > 4L * mm.PageTables.Count + 64)
        {
            foreach (var (index, slot) in mm.PageTables.Ordered())
                rss += CheckSlot(k, mm, index, slot, ref pageTablesSeen, errors);
            FoldMm(k, mm);
            return rss;
        }
        foreach (var vma in mm.Vmas)
        {
            if (vma.End <= vma.Start) continue;
            long last = k.PmdIndex(vma.End - 1);
            for (long index = Math.Max(k.PmdIndex(vma.Start), done + 1); index <= last; index++)
            {
                var slot = mm.PageTables.Find(index);
                if (slot == null) continue;
                visited++;
                rss += CheckSlot(k, mm, index, slot, ref pageTablesSeen, errors);
            }
            done = Math.Max(done, last);
        }
        if (visited != mm.PageTables.Count)
        {
            ulong pmdSize = (ulong)k.Geo.PmdSize;
            foreach (var (index, slot) in mm.PageTables.Ordered())
            {
                ulong pmdBase = (ulong)index << (k.Geo.PageShift + k.Geo.PmdOrder);
                if (!mm.AnyIntersecting(pmdBase, pmdBase + pmdSize))
                    rss += CheckSlot(k, mm, index, slot, ref pageTablesSeen, errors);
            }
        }
        FoldMm(k, mm);
        return rss;
    }

    /// <summary>
    /// Every PMD and PUD page of the mm is a page-table frame, each PMD page has a PUD page above it,
    /// and each reaches a VMA (free_pgtables() frees those that do not).
    /// </summary>
    static void CheckUpperTables(Kernel k, MmStruct mm, ref long pageTablesSeen, List<string> errors)
    {
        var map = k.Map;
        var tables = mm.PageTables;
        foreach (var (first, pfn, pud) in tables.UpperPages())
        {
            string what = pud ? "PUD" : "PMD";
            ulong from = (ulong)first << (k.Geo.PageShift + k.Geo.PmdOrder);
            ulong to = from + ((ulong)(pud ? tables.PudPageSpan : tables.PmdPageSpan) << (k.Geo.PageShift + k.Geo.PmdOrder));
            if ((uint)pfn >= (uint)map.Capacity || map.Kind(pfn) != PageKind.PageTable)
                errors.Add($"{mm.Name}: the {what} page at {from:x} is frame {pfn:x}, which is not a page table");
            else pageTablesSeen++;
            if (!pud && tables.PudLevel && !tables.HasPudPage(first)) errors.Add($"{mm.Name}: the PMD page at {from:x} has no PUD page above it");
            if (!mm.AnyIntersecting(from, to)) errors.Add($"{mm.Name}: the {what} page at {from:x} outlived every VMA of its range");
        }
    }

    long CheckSlot(Kernel k, MmStruct mm, long index, PmdSlot slot, ref long pageTablesSeen, List<string> errors)
    {
        var map = k.Map;
        long rss = 0;
        ulong pmdBase = (ulong)index << (k.Geo.PageShift + k.Geo.PmdOrder);
        if (!mm.PageTables.HasPmdPage(index)) errors.Add($"{mm.Name}: PMD at {pmdBase:x} has no PMD page above it");
        // x86 deposits no page table under a file PMD mapping.
        bool filePmd = slot.Kind == PmdKind.Huge && (uint)Pte.Pfn(slot.Leaf) < (uint)map.Capacity && map.Kind(Pte.Pfn(slot.Leaf)) == PageKind.Shmem;
        if (slot.Kind != PmdKind.None && !filePmd)
        {
            if (slot.TablePfn < 0 || slot.TablePfn >= map.Capacity || map.Kind(slot.TablePfn) != PageKind.PageTable)
                errors.Add($"{mm.Name}: PMD at {pmdBase:x} has no page table page (deposited or in use)");
            else pageTablesSeen++;
        }
        CheckContBlocks(k, mm, slot, pmdBase, errors);
        switch (slot.Kind)
        {
            case PmdKind.Huge:
            {
                int head = Pte.Pfn(slot.Leaf);
                bool inMap = head >= 0 && head < map.Capacity;
                if (!inMap || map.Kind(head) is not (PageKind.Anon or PageKind.Shmem) || map.Order(head) != k.Geo.PmdOrder || map.HeadOf(head) != head)
                    errors.Add($"{mm.Name}: PMD at {pmdBase:x} maps PFN {head:x} which is not the head of a live PMD-order anon or shmem folio");
                if (filePmd)
                {
                    _shmemRss += 1L << k.Geo.PmdOrder;
                    if (slot.TablePfn >= 0) errors.Add($"{mm.Name}: shmem PMD at {pmdBase:x} has a deposited page table");
                    CheckFileMapping(k, mm, pmdBase, head, errors);
                }
                if (inMap)
                {
                    _folios[head].PmdMaps++;
                    Touch(head);
                    if (head > _maxTallied) _maxTallied = head;
                }
                else errors.Add($"PFN {head:x} is mapped but was never allocated");
                rss += 1L << k.Geo.PmdOrder;
                CheckCovered(mm, pmdBase, pmdBase + (ulong)k.Geo.PmdSize, Pte.IsWrite(slot.Leaf), errors);
                if (!filePmd) CheckPmdContents(k, mm, slot, pmdBase);
                break;
            }
            case PmdKind.HugeZero:
                if (Pte.Pfn(slot.Leaf) != k.HugeZeroPfn || Pte.IsWrite(slot.Leaf))
                    errors.Add($"{mm.Name}: huge zero PMD at {pmdBase:x} is wrong (pfn {Pte.Pfn(slot.Leaf):x}, writable {Pte.IsWrite(slot.Leaf)})");
                CheckCovered(mm, pmdBase, pmdBase + (ulong)k.Geo.PmdSize, false, errors);
                CheckPmdContents(k, mm, slot, pmdBase);
                break;
            case PmdKind.Table:
                rss += CheckPtes(k, mm, slot, pmdBase, errors);
                break;
            default:
                CheckPmdContents(k, mm, slot, pmdBase);
                break;
        }
        return rss;
    }

    /// <summary>
    /// The PTEs of one table: each maps a live anon page with the VMA's permission, and is tallied.
    /// Notes (in <see cref="_contentLost"/>) whether a page inside a VMA reads other than the program expects.
    /// </summary>
    long CheckPtes(Kernel k, MmStruct mm, PmdSlot slot, ulong pmdBase, List<string> errors)
    {
        // The hottest loop of the fuzzer: everything it touches is in locals.
        var map = k.Map;
        ulong[] ptes = slot.Ptes!;
        uint[]? expected = slot.Expected;
        int[] pteMaps = _pteMaps, thisMm = _thisMm;
        int shift = k.Geo.PageShift, capacity = map.Capacity, maxTallied = _maxTallied;
        bool contentLost = false;
        long rss = 0;
        Vma.Vma? vma = null;
        ulong vmaStart = 1, vmaEnd = 0;   // the VMA last looked up (empty range: none)
        for (int i = 0; i < ptes.Length; i++)
        {
            ulong pte = ptes[i];
            uint want = expected != null ? expected[i] : 0;
            if ((pte | want) == 0)
            {
                // pte_none() where the program expects zeroes: so is most of a table, skipped a run at a time.
                int run = ptes.AsSpan(i).IndexOfAnyExcept(0UL);
                if (expected != null)
                {
                    int wants = expected.AsSpan(i).IndexOfAnyExcept(0u);
                    if (wants >= 0 && (run < 0 || wants < run)) run = wants;
                }
                if (run < 0) break;
                i += run - 1;
                continue;
            }
            ulong addr = pmdBase + ((ulong)i << shift);
            // PTEs ascend, so the VMA of the previous one usually holds this one too.
            if (addr < vmaStart || addr >= vmaEnd)
            {
                vma = mm.FindVma(addr);
                (vmaStart, vmaEnd) = vma != null ? (vma.Start, vma.End) : (1UL, 0UL);
            }
            // A run of entries that pass every check below: tallied at once.
            if (Pte.IsNormal(pte) && vma is { File: null } && (vma.Flags & VmFlags.Write) != 0
                && AnonRun(map, ptes, expected, i, (int)Math.Min((ulong)(ptes.Length - i), (vmaEnd - addr) >> shift)) is var n and > 0)
            {
                int pfn0 = Pte.Pfn(pte);
                for (int j = 0; j < n; j++) pteMaps[pfn0 + j]++;
                maxTallied = Math.Max(maxTallied, pfn0 + n - 1);
                if (map.Order(pfn0) is var runOrder and > 0)
                    for (int p = pfn0, end = pfn0 + n; p < end;)
                    {
                        int head = p & ~((1 << runOrder) - 1), next = Math.Min(head + (1 << runOrder), end);
                        if (thisMm[head] == 0) Touched(head);
                        thisMm[head] += next - p;
                        p = next;
                    }
                rss += n;
                i += n - 1;
                continue;
            }
            // Shared memory's content is the file's, checked with the page cache (CheckPageCache); a
            // private file mapping maps the file's pages too, and anonymous copies the program expects.
            bool fileVma = vma?.File != null, sharedFile = fileVma && vma!.IsShared;
            if (pte == 0)
            {
                // Reads zeroes (or the file): lost content unless the program's store there may have been dropped.
                if (vma != null && !sharedFile && !Reads(k, 0, want)) contentLost = true;
                continue;
            }
            if (vma == null) { errors.Add($"{mm.Name}: PTE at {addr:x} outside any VMA"); continue; }
            if (Pte.IsMarker(pte))
            {
                // A uffd-wp marker maps nothing: only file mappings have them, and they read as a hole does.
                if (pte != Pte.UffdWpMarker) errors.Add($"{mm.Name}: PTE marker at {addr:x} has bits {pte:x}");
                if (!fileVma) errors.Add($"{mm.Name}: PTE at {addr:x} of an anonymous mapping is a uffd-wp marker");
                if (!sharedFile && !Reads(k, 0, want)) contentLost = true;
                continue;
            }
            if (Pte.IsSwap(pte))
            {
                if (k.SwapInfo is not { } si || Pte.SwapOffset(pte) <= 0 || Pte.SwapOffset(pte) >= si.Max)
                {
                    errors.Add($"{mm.Name}: PTE at {addr:x} is a swap entry for slot {Pte.SwapOffset(pte)}, which no swap device has");
                    continue;
                }
                if (sharedFile) errors.Add($"{mm.Name}: PTE at {addr:x} of a shared file mapping is a swap entry");
                int off = Pte.SwapOffset(pte);
                // An exclusive entry lets swap-in map the page writable: nobody else may hold the slot.
                if (Pte.IsSwpExclusive(pte) && si.Count(off) != 1)
                    errors.Add($"{mm.Name}: swap entry at {addr:x} is exclusive but slot {off} has count {si.Count(off)}");
                AddSwapRef(off);
                _swapEnts++;
                if (!Reads(k, k.SwapSlotContent(off), want)) contentLost = true;
                continue;
            }
            // (A userfaultfd write-protect bit may linger where the VMA lost its wp mode: the kernel then ignores it.)
            if (Pte.IsWrite(pte) && ((vma.Flags & VmFlags.Write) == 0 || Pte.IsZero(pte)))
                errors.Add($"{mm.Name}: PTE at {addr:x} is writable without permission");
            int pfn = Pte.Pfn(pte);
            if (Pte.IsZero(pte))
            {
                contentLost |= !fileVma && !Reads(k, 0, want);
                // The same read-only entry again, up to the VMA's end, where the program expects zeroes: the same outcome.
                if (!Pte.IsWrite(pte)) i += SameEntries(ptes, expected, i + 1, (int)Math.Min((ulong)ptes.Length, (ulong)i + ((vmaEnd - addr) >> shift)));
                continue;
            }
            bool inMap = (uint)pfn < (uint)capacity;
            var pageKind = inMap ? map.Kind(pfn) : PageKind.FreeTail;
            // A page cache page in a private mapping is the file's (the program expects none of its own there).
            bool filePage = pageKind == PageKind.Shmem && fileVma;
            if (!inMap || (!sharedFile && (filePage ? want != 0 : !Reads(k, map.Content(pfn), want)))) contentLost = true;
            if (!Pte.IsNormal(pte)) continue;
            if (pageKind != PageKind.Anon && !filePage || pageKind == PageKind.Anon && sharedFile)
            {
                errors.Add($"{mm.Name}: PTE at {addr:x} maps PFN {pfn:x} which is not part of a live {(sharedFile ? "shmem" : fileVma ? "shmem or anon" : "anon")} folio");
                continue;
            }
            if (filePage && !sharedFile && Pte.IsWrite(pte))
                errors.Add($"{mm.Name}: PTE at {addr:x} of a private file mapping maps the page cache writable");
            if (filePage)
            {
                _shmemRss++;
                CheckFileMapping(k, mm, addr, pfn, errors);
            }
            pteMaps[pfn]++;
            if (pfn > maxTallied) maxTallied = pfn;
            // Which mms map a folio matters for the MM_ID slots, which only large folios have.
            int order = map.Order(pfn);
            if (order > 0)
            {
                int head = pfn & ~((1 << order) - 1);
                if (thisMm[head]++ == 0) Touched(head);
            }
            rss++;
        }
        _pteTallies += rss;
        _maxTallied = maxTallied;
        if (contentLost) _contentLost = true;
        return rss;
    }

    /// <summary>How many entries of [i, end) repeat the entry before <paramref name="i"/> where the program expects zeroes.</summary>
    static int SameEntries(ulong[] ptes, uint[]? expected, int i, int end)
    {
        if (i >= end) return 0;
        var same = ptes.AsSpan(i, end - i);
        int n = same.IndexOfAnyExcept(ptes[i - 1]) is var at and >= 0 ? at : same.Length;
        if (expected != null && expected.AsSpan(i, n).IndexOfAnyExcept(0u) is var w and >= 0) n = w;
        return n;
    }

    /// <summary>Entries that lead the walk to look at a run at once rather than entry by entry.</summary>
    const int MinAnonRun = 4;

    /// <summary>
    /// How many entries from <paramref name="i"/> (at most <paramref name="max"/>, all in one writable
    /// anonymous VMA) are normal, map consecutive frames of anon folios of one order, and read what
    /// the program stored: entries that every entry-by-entry check passes. 0 for fewer than
    /// <see cref="MinAnonRun"/>; the first few are tried before the rest, so that a refusal is cheap.
    /// </summary>
    static int AnonRun(MemMap map, ulong[] ptes, uint[]? expected, int i, int max)
    {
        int pfn = Pte.Pfn(ptes[i]);
        max = Math.Min(max, map.Capacity - pfn);
        if (max < MinAnonRun || pfn < 0 || map.Kind(pfn) != PageKind.Anon) return 0;
        if (AnonRunPrefix(map, ptes, expected, i, pfn, MinAnonRun) < MinAnonRun) return 0;
        return AnonRunPrefix(map, ptes, expected, i, pfn, max);
    }

    static int AnonRunPrefix(MemMap map, ulong[] ptes, uint[]? expected, int i, int pfn, int n)
    {
        n = map.SameFramePrefix(pfn, Pte.ConsecutiveNormal(ptes.AsSpan(i, n), pfn));
        return map.ContentPrefix(pfn, expected != null ? expected.AsSpan(i) : default, n);
    }

    /// <summary>
    /// Every swap slot in use is referenced by exactly as many swap entries as its count says or held
    /// by the swap cache (for the folio that names it), and the device's clusters agree with its slots.
    /// </summary>
    /// <summary>
    /// arm64's contiguous bit: only a PTE table has folded blocks, and each folded block could be
    /// (contpte_try_fold()'s conditions) and has one access and dirty state, as the hardware sees one entry.
    /// </summary>
    static void CheckContBlocks(Kernel k, MmStruct mm, PmdSlot slot, ulong pmdBase, List<string> errors)
    {
        if (slot.ContBlocks == null) return;
        int n = k.Geo.ContPtes;
        if (n == 0) { errors.Add($"{mm.Name}: PMD at {pmdBase:x} has contiguous-bit blocks on an architecture without the bit"); return; }
        for (int first = 0; first < k.Geo.PtrsPerPte; first += n)
        {
            if (!k.ContFolded(slot, first)) continue;
            ulong va = pmdBase + (ulong)first * (ulong)k.Geo.PageSize;
            if (slot.Kind != PmdKind.Table) { errors.Add($"{mm.Name}: block at {va:x} keeps the contiguous bit, but its PMD is {slot.Kind}"); continue; }
            var ptes = slot.Ptes!;
            if (!k.ContFoldable(ptes, first))
                errors.Add($"{mm.Name}: block at {va:x} has the contiguous bit but could not be folded (entries {ptes[first]:x}..{ptes[first + n - 1]:x})");
            else
                for (int i = first + 1; i < first + n; i++)
                    if (((ptes[i] ^ ptes[first]) & (Pte.Young | Pte.Dirty)) != 0)
                    {
                        errors.Add($"{mm.Name}: folded block at {va:x} has entries with different access or dirty bits");
                        break;
                    }
        }
    }

    void CheckSwap(Kernel k, List<string> errors)
    {
        if (k.SwapInfo is not { } si)
        {
            if (_swapRefSlots.Count > 0) errors.Add("swap entries exist without a swap device");
            return;
        }
        int used = _cachedSlots.Count, wrong = 0;
        foreach (int off in _swapRefSlots)
        {
            bool cached = _cachedSlots.Contains(off);
            if (!cached) used++;
            if (si.Count(off) != _swapRefs[off] || !cached && si.CachedFolio(off) >= 0) wrong++;
        }
        // Reported in slot order; the check itself needs none (sorting every time was a tenth of a fuzz episode on 64K pages).
        if (wrong > 0)
        {
            _swapRefSlots.Sort();
            foreach (int off in _swapRefSlots)
            {
                int refs = _swapRefs[off];
                if (si.Count(off) != refs) errors.Add($"swap slot {off} has count {si.Count(off)}, {refs} swap entries refer to it");
                if (!_cachedSlots.Contains(off) && si.CachedFolio(off) >= 0) errors.Add($"swap slot {off} names folio {si.CachedFolio(off):x}, which is not in the swap cache");
            }
        }
        if (used != si.InUse) errors.Add($"swap device has {si.InUse} slots in use, swap entries and the swap cache hold {used}");
        if (si.Check() is string bad) errors.Add(bad);
    }

    /// <summary>One more swap entry refers to <paramref name="slot"/> (a slot the device has).</summary>
    void AddSwapRef(int slot)
    {
        if (slot >= _swapRefs.Length) Array.Resize(ref _swapRefs, Math.Max(slot + 1, 2 * _swapRefs.Length));
        if (_swapRefs[slot]++ == 0) _swapRefSlots.Add(slot);
    }

    /// <summary>
    /// Every swap entry of a shmem page cache is aligned to its order, names slots in use, each page's
    /// slot holding what the file should read there; each counts as a reference to its slot.
    /// </summary>
    void CheckShmemSwapEntries(Kernel k, List<string> errors)
    {
        foreach (var f in k.Files)
        {
            if (f.Cache.SwappedPages == 0) continue;
            if (k.SwapInfo is not { } si) { errors.Add($"{f.Name}: swap entries in its page cache without a swap device"); continue; }
            _fileSwapEntries.Clear();
            f.Cache.SwapEntries(0, long.MaxValue, _fileSwapEntries);
            foreach (var (index, off, order) in _fileSwapEntries)
            {
                int nr = 1 << order;
                if ((index & (nr - 1)) != 0 || (off & (nr - 1)) != 0) errors.Add($"{f.Name}: swap entry of order {order} at index {index}, slot {off}, is not aligned");
                for (int i = 0; i < nr;)
                {
                    // what the file should read, a block of its record at a time
                    var want = f.ExpectedRun(index + i, nr - i, out int n);
                    int end = i + n;
                    for (; i < end; i++)
                    {
                        if (off + i <= 0 || off + i >= si.Max) { errors.Add($"{f.Name}: index {index + i} names slot {off + i}, which the device does not have"); break; }
                        AddSwapRef(off + i);
                        uint holds = k.SwapSlotContent(off + i), should = want.IsEmpty ? 0 : want[i - end + n];
                        if (holds != should) errors.Add($"{f.Name}: page {index + i} swapped to slot {off + i} holds {holds}, the file should read {should}");
                    }
                    if (i < end) break;
                }
            }
        }
    }

    /// <summary>
    /// Every cgroup's usage is the pages charged to it — frames of folios and page tables that record
    /// it, all frames of a folio alike — and its charge stock; free frames record none; processes are
    /// in the cgroup they name.
    /// </summary>
    static void CheckMemcgs(Kernel k, List<string> errors)
    {
        if (k.Cgroups.Count == 0) return;
        var map = k.Map;
        var charged = new long[k.Cgroups.Count];
        for (int pfn = 0; pfn < map.Capacity; pfn++)
        {
            var kind = map.Kind(pfn);
            if (kind is PageKind.FreeHead or PageKind.FreeTail)
            {
                // free memory a vector at a time: only a charged frame is looked at
                int next = map.NextNotFree(pfn, map.Capacity);
                for (int c = k.NextCharged(pfn, next); c < next; c = k.NextCharged(c + 1, next))
                    errors.Add($"pfn {c:x} ({map.Kind(c)}) is charged to cgroup '{k.MemcgOf(c)!.Name}'");
                pfn = next - 1;
                continue;
            }
            var cg = k.MemcgOf(pfn);
            if (kind is PageKind.FreeHead or PageKind.FreeTail or PageKind.HugeZero or PageKind.KernelPage or PageKind.Pinned or PageKind.FileCache)
            {
                if (cg != null) errors.Add($"pfn {pfn:x} ({kind}) is charged to cgroup '{cg.Name}'");
                continue;
            }
            int head = map.HeadOf(pfn);
            if (k.MemcgOf(head) != cg) errors.Add($"pfn {pfn:x} is charged to '{cg?.Name ?? "root"}', its folio's head to '{k.MemcgOf(head)?.Name ?? "root"}'");
            if (cg != null) charged[cg.Id - 1]++;
        }
        for (int i = 0; i < charged.Length; i++)
            if (charged[i] + k.Cgroups[i].StockPages + k.Cgroups[i].KmemPages != k.Cgroups[i].UsagePages)
                errors.Add($"cgroup '{k.Cgroups[i].Name}' usage is {k.Cgroups[i].UsagePages} pages: {charged[i]} pages are charged to it, {k.Cgroups[i].StockPages} are in the charge stock, {k.Cgroups[i].KmemPages} hold kernel objects");
        foreach (var mm in k.Processes)
            if (mm.Memcg != null && !mm.Memcg.Members.Contains(mm)) errors.Add($"{mm.Name}: not among the members of its cgroup '{mm.Memcg.Name}'");
    }

    /// <summary>
    /// Where the model keeps the LRU: every list runs intact from head to tail, holds live anon folios
    /// of its lruvec's cgroup whose flags name that list, and its size is their pages; every live anon
    /// folio is on exactly one list (none is left isolated between statements).
    /// </summary>
    void CheckLru(Kernel k, List<string> errors)
    {
        if (k.Lru is not { } lru) return;
        var map = k.Map;
        var onList = _onLru;
        onList.Clear();
        foreach (int h in k.LruAddBatch)
            if (!onList.Add(h)) errors.Add($"folio {h:x} twice in the lru_add batch");
            else if (lru.OnLru(h) || lru.IsIsolated(h)) errors.Add($"folio {h:x} is in the lru_add batch and on a list");
            else if (map.Kind(h) is not (PageKind.Anon or PageKind.Shmem) || map.Refcount(h) <= 0 || map.HeadOf(h) != h || map.Order(h) != 0) errors.Add($"the lru_add batch holds {h:x}, not a live order-0 anon or shmem folio");
        var vecs = new List<Reclaim.Lruvec> { k.RootLruvec! };
        vecs.AddRange(k.Cgroups.Select(c => c.Lruvec!));
        foreach (var vec in vecs)
            for (int l = 0; l < Reclaim.LruLists.Count; l++)
            {
                var list = (Reclaim.LruList)l;
                string where = $"{list} list of {(vec.Memcg?.Name ?? "the root")}";
                long pages = 0;
                int last = -1;
                for (int h = vec.Head[l]; h >= 0; last = h, h = lru.Older(h))
                {
                    if (h >= map.Capacity) { errors.Add($"{where}: {h:x} is past the frames in use"); break; }
                    if (!onList.Add(h)) { errors.Add($"{where}: folio {h:x} twice (a cycle?)"); break; }
                    if (map.Kind(h) is not (PageKind.Anon or PageKind.Shmem) || map.Refcount(h) <= 0 || map.HeadOf(h) != h) { errors.Add($"{where}: {h:x} is not a live anon or shmem folio"); continue; }
                    if (lru.ListOf(h) != list) errors.Add($"{where}: folio {h:x} says it is on the {lru.ListOf(h)} list");
                    var want = Reclaim.LruLists.Of(map.Test(h, PageFlags.LazyFree), map.Test(h, PageFlags.Active));
                    if (want != list) errors.Add($"{where}: folio {h:x} belongs on the {want} list");
                    if (k.MemcgOf(h) != vec.Memcg) errors.Add($"{where}: folio {h:x} is charged to '{k.MemcgOf(h)?.Name ?? "root"}'");
                    pages += 1 << map.Order(h);
                }
                if (last != vec.Tail[l]) errors.Add($"{where}: the tail is {vec.Tail[l]:x}, the walk ended at {last:x}");
                if (pages != vec.Pages(list)) errors.Add($"{where}: size {vec.Pages(list)} pages, its folios have {pages}");
            }
        for (int pfn = 0; pfn < map.Capacity; pfn++)
        {
            var kind = map.Kind(pfn);
            // free memory a vector at a time
            if (kind is PageKind.FreeHead or PageKind.FreeTail) { pfn = map.NextNotFree(pfn, map.Capacity) - 1; continue; }
            if (kind is not (PageKind.Anon or PageKind.Shmem) || map.HeadOf(pfn) != pfn || map.Refcount(pfn) <= 0) continue;
            if (lru.IsIsolated(pfn)) errors.Add($"{kind} folio {pfn:x} is still isolated from the LRU");
            else if (!onList.Contains(pfn)) errors.Add($"{kind} folio {pfn:x} is on no LRU list");
        }
    }

    /// <summary>
    /// Whether every page of the shmem folio <paramref name="head"/> at <paramref name="index"/> holds
    /// what the file should read there (zeroes if it is not uptodate), compared a vector at a time.
    /// </summary>
    static bool ReadsAsWritten(MemMap map, Shmem.ShmemFile f, int head, long index, bool uptodate, Span<uint> buffer)
    {
        int nr = 1 << map.Order(head);
        for (int i = 0; i < nr;)
        {
            var want = f.ExpectedRun(index + i, Math.Min(nr - i, buffer.Length), out int n);
            var got = buffer[..n];
            map.ContentsOf(head + i, got);
            bool same = want.IsEmpty ? !got.ContainsAnyExcept(0u) : uptodate ? want.SequenceEqual(got) : !want.ContainsAnyExcept(0u) && !got.ContainsAnyExcept(0u);
            if (!same) return false;
            i += n;
        }
        return true;
    }

    /// <summary>Whether a page holding <paramref name="actual"/> reads as the program expects (<paramref name="want"/>, maybe zeroes after MADV_FREE or a drop by the kernel).</summary>
    static bool Reads(Kernel k, uint actual, uint want) =>
        (want & PmdSlot.MaybeZero) != 0 ? actual == 0 || actual == (want & ~PmdSlot.MaybeZero)
        : actual == want || (actual == 0 && k.IsDroppedStore(want));

    /// <summary>Content of a slot without a PTE table (PMD-mapped, huge zero, or empty): notes lost content inside a VMA.</summary>
    void CheckPmdContents(Kernel k, MmStruct mm, PmdSlot slot, ulong pmdBase)
    {
        var map = k.Map;
        var expected = slot.Expected;
        int head = slot.Kind == PmdKind.Huge ? Pte.Pfn(slot.Leaf) : -1;
        if (head < 0 && expected == null) return;   // zeroes, as the program expects
        int n = k.Geo.PtrsPerPte;
        for (int i = 0; i < n; i++)
        {
            uint want = expected != null ? expected[i] : 0;
            int page = head + i;
            bool ok = head < 0 ? Reads(k, 0, want) : page < map.Capacity && Reads(k, map.Content(page), want);
            // Pages outside every VMA are nobody's content (a PMD mapping across VMAs is reported by CheckCovered).
            // Shared memory's content is the file's (CheckPageCaches).
            if (!ok && mm.FindVma(pmdBase + ((ulong)i << k.Geo.PageShift)) is { File: null }) { _contentLost = true; return; }
        }
    }

    /// <summary>Counts one mapping of a folio by the mm being walked.</summary>
    void Touch(int head)
    {
        if (_thisMm[head]++ == 0) Touched(head);
    }

    void Touched(int head)
    {
        if (_nTouched == _touched.Length) Array.Resize(ref _touched, _touched.Length * 2);
        _touched[_nTouched++] = head;
    }

    /// <summary>An mm's walk is over: which folios it maps, and how often, for the MM_ID checks.</summary>
    void FoldMm(Kernel k, MmStruct mm)
    {
        var map = k.Map;
        for (int i = _mmTouchedFrom; i < _nTouched; i++)
        {
            int head = _touched[i];
            ref var t = ref _folios[head];
            int n = _thisMm[head];
            _thisMm[head] = 0;
            t.Mms++;
            // Only a live large anon or shmem folio has MM_ID slots (others are reported by the folio walk).
            if (map.Order(head) == 0 || map.Kind(head) is not (PageKind.Anon or PageKind.Shmem) || map.HeadOf(head) != head) continue;
            var lf = map.Large(head);
            if (lf.MmId0 == mm.Id) t.Slot0 = n;
            if (lf.MmId1 == mm.Id) t.Slot1 = n;
        }
    }

    static void CheckCovered(MmStruct mm, ulong start, ulong end, bool writable, List<string> errors)
    {
        var vma = mm.FindVma(start);
        if (vma == null || vma.End < end)
            errors.Add($"{mm.Name}: PMD mapping at {start:x} is not inside one VMA");
        else if (writable && (vma.Flags & VmFlags.Write) == 0)
            errors.Add($"{mm.Name}: PMD mapping at {start:x} is writable without permission");
    }


    /// <summary>
    /// The first page of the VMA whose content differs from what the program expects, and what it
    /// holds, or null (as <see cref="Kernel.FirstCorruptPage"/>, one PMD slot at a time: a hole reads
    /// zeroes and expects zeroes).
    /// </summary>
    static (ulong Addr, uint Actual)? FirstCorruptPage(Kernel k, MmStruct mm, Vma.Vma vma)
    {
        ulong pmdSize = (ulong)k.Geo.PmdSize;
        for (ulong addr = vma.Start; addr < vma.End;)
        {
            ulong next = Math.Min((addr & ~(pmdSize - 1)) + pmdSize, vma.End);
            var slot = mm.PageTables.Find(k.PmdIndex(addr));
            if (slot != null && (slot.Kind != PmdKind.None || slot.Expected != null))
            {
                var expected = slot.Expected;
                int first = k.PteIndex(addr), end = first + (int)((next - addr) >> k.Geo.PageShift);
                for (int i = first; i < end; i++)
                {
                    uint want = expected?[i] ?? 0;
                    if (!ContentOf(k, slot, i, out uint actual) || !Reads(k, actual, want))
                        return (addr + ((ulong)(i - first) << k.Geo.PageShift), actual);
                }
            }
            addr = next;
        }
        return null;
    }

    /// <summary>What a load from PTE index i of the slot returns (as <see cref="Kernel.ContentAt"/>); false if it maps no page frame.</summary>
    static bool ContentOf(Kernel k, PmdSlot slot, int i, out uint content)
    {
        var map = k.Map;
        var si = k.SwapInfo;
        int pfn;
        switch (slot.Kind)
        {
            case PmdKind.Huge:
                pfn = Pte.Pfn(slot.Leaf) + i;
                break;
            case PmdKind.Table:
                ulong pte = slot.Ptes![i];
                if (Pte.IsNoneMostly(pte) || Pte.IsZero(pte)) { content = 0; return true; }
                if (Pte.IsSwap(pte))
                {
                    content = si != null && Pte.SwapOffset(pte) < si.Max ? k.SwapSlotContent(Pte.SwapOffset(pte)) : 0;
                    return si != null;
                }
                pfn = Pte.Pfn(pte);
                break;
            default:
                content = 0;
                return true;
        }
        if (pfn < 0 || pfn >= map.Capacity) { content = 0; return false; }
        content = map.Content(pfn);
        return true;
    }

    /// <summary>Pins held per page frame.</summary>
    void TallyPins(Kernel k)
    {
        foreach (var list in k.PinLists)
            foreach (var range in list)
                foreach (int pfn in range.Pfns)
                {
                    if (pfn < 0 || pfn >= _pins.Length) continue;   // no such frame: no folio to hold the reference
                    _pins[pfn]++;
                    if (pfn >= _dirtyEnd) _dirtyEnd = pfn + 1;
                }
    }

    /// <summary>Walks every page frame below the frontier once; returns how many are marked free (for the buddy check).</summary>
    long CheckFolios(Kernel k, long pageTablesSeen, List<string> errors)
    {
        var map = k.Map;
        long anonMapped = 0, anonThps = 0, pageTables = 0, queued = 0, freeKinds = 0, kernelPages = 0, pinnedPages = 0, fileCachePages = 0;
        long fileMapped = 0, shmemPmdMapped = 0, shmemPages = 0, shmemThps = 0, swapCached = 0;
        Span<long> nrAnon = stackalloc long[k.Geo.PmdOrder + 1];
        Span<long> nrPartial = stackalloc long[k.Geo.PmdOrder + 1];
        nrAnon.Clear();
        nrPartial.Clear();
        int frontier = (int)k.Buddy.Frontier;
        int capacity = map.Capacity;
        int[] pteMaps = _pteMaps, pinned = _pins;
        bool anyPins = _dirtyEnd > 0;
        long zeroed = 0;
        for (int pfn = 0; pfn < frontier;)
        {
            var kind = map.Kind(pfn);
            if (kind is PageKind.FreeHead or PageKind.FreeTail)
            {
                int next = map.NextNotFree(pfn, frontier);
                freeKinds += next - pfn;
                pfn = next;
                continue;
            }
            int order = map.Order(pfn);
            if (map.HeadOf(pfn) != pfn) { errors.Add($"PFN {pfn:x}: folio page found before its head"); pfn++; continue; }
            int nr = 1 << order;
            int end = Math.Min(pfn + nr, capacity);
            if (kind is PageKind.PageTable or PageKind.HugeZero or PageKind.KernelPage or PageKind.Pinned or PageKind.FileCache)
            {
                if (kind == PageKind.PageTable) pageTables++;
                else if (kind == PageKind.KernelPage) kernelPages++;
                else if (kind == PageKind.Pinned) pinnedPages++;
                else if (kind == PageKind.FileCache) fileCachePages++;
                for (int p = pfn + 1; p < end && p < frontier; p++)
                    if (map.Kind(p) is PageKind.FreeHead or PageKind.FreeTail) freeKinds++;
                pfn += nr;
                continue;
            }
            int entire = _folios[pfn].PmdMaps;
            int folioMapcount = entire, mappedPages = 0, pins = 0;
            // A large folio whose pages all carry its kind and order and whose tails carry no folio
            // flags (the usual case) is checked a vector at a time: only pages that PTEs map, or
            // whose mapcount says so, are looked at one by one. Errors come out in the same order.
            if (nr > 1 && map.SameFrames(pfn, end) && !map.AnyFlag(pfn + 1, end, FolioFlags))
            {
                for (int p = pfn; p < end; p++)
                {
                    p = Math.Min(NextNonZero(pteMaps, p, end), map.NextPteMapped(p, end));
                    if (p == end) break;
                    CheckPteMapcount(p);
                }
                long counted = entire > 0 ? end - pfn : mappedPages;
                if (kind == PageKind.Shmem) fileMapped += counted; else anonMapped += counted;
                if (anyPins) for (int p = pfn; p < end; p++) pins += pinned[p];
            }
            else
            {
                for (int p = pfn; p < end; p++)
                {
                    var pageKind = map.Kind(p);
                    if (pageKind != kind || map.Order(p) != order)
                    {
                        errors.Add($"PFN {p:x}: inconsistent folio metadata inside folio {pfn:x}");
                        if (p < frontier && pageKind is PageKind.FreeHead or PageKind.FreeTail) freeKinds++;
                    }
                    // Folio flags (PG_dirty, lazily freed, deferred split state) live on the head page only.
                    if (p != pfn && map.Test(p, FolioFlags)) errors.Add($"PFN {p:x}: folio flags on a tail page of folio {pfn:x}");
                    int expect = CheckPteMapcount(p);
                    if (expect > 0 || entire > 0) { if (kind == PageKind.Shmem) fileMapped++; else anonMapped++; }
                    if (anyPins) pins += pinned[p];
                }
            }

            // The page's PTE mapcount against the PTEs the walk found mapping it; returns that number.
            int CheckPteMapcount(int p)
            {
                int expect = pteMaps[p];
                if (expect != 0 && p < frontier)   // (above the frontier it is still to be reported)
                {
                    pteMaps[p] = 0;   // read once: zeroed here rather than by the next check
                    zeroed += expect;
                }
                if (map.PteMapcount(p) != expect)
                    errors.Add($"PFN {p:x}: mapcount {map.PteMapcount(p)} but {expect} PTEs map it");
                folioMapcount += expect;
                if (expect > 0) mappedPages++;
                return expect;
            }
            if (map.EntireMapcount(pfn) != entire)
                errors.Add($"folio {pfn:x}: entire mapcount {map.EntireMapcount(pfn)} but {entire} PMDs map it");
            int refcount = map.Refcount(pfn);
            int pinRefs = order > 0 ? pins : pins * Kernel.GupPinCountingBias;
            if (kind == PageKind.Anon && k.InSwapCache(pfn))
            {
                // The swap cache holds one reference per page of the folios it indexes.
                pinRefs += nr;
                swapCached += nr;
                int off = k.SwapCache!.OffsetOf(pfn);
                for (int i = 0; i < nr; i++)
                    if (k.SwapInfo!.CachedFolio(off + i) != pfn) errors.Add($"folio {pfn:x} in the swap cache at slot {off + i}, which names {k.SwapInfo.CachedFolio(off + i):x}");
                    else _cachedSlots.Add(off + i);
            }
            if (kind == PageKind.Shmem)
            {
                // The page cache holds one reference per page of the folios it indexes.
                if (k.ShmemOwner(pfn) is { } owner)
                {
                    pinRefs += nr;
                    shmemPages += nr;
                    if (order == k.Geo.PmdOrder) shmemThps += nr;
                    for (long i = 0; i < nr; i++)
                        if (owner.File.Cache.Lookup(owner.Index + i) != pfn) { errors.Add($"shmem folio {pfn:x}: page cache of {owner.File.Name} at index {owner.Index + i} holds {owner.File.Cache.Lookup(owner.Index + i):x}"); break; }
                    if ((owner.Index & (nr - 1)) != 0) errors.Add($"shmem folio {pfn:x} of order {order} at unaligned index {owner.Index}");
                }
                if (entire > 0 && order == k.Geo.PmdOrder) shmemPmdMapped += nr;
            }
            if (refcount < folioMapcount)
                errors.Add($"folio {pfn:x}: refcount {refcount} below mapcount {folioMapcount}");
            if (refcount != folioMapcount + pinRefs)
                errors.Add($"folio {pfn:x}: refcount {refcount} but {folioMapcount} mappings and {pins} pins (leak)");
            if (refcount == 0)
                errors.Add($"folio {pfn:x}: allocated with refcount 0");
            if (order > 0)
            {
                var lf = map.Large(pfn);
                if (lf.Pincount != pins) errors.Add($"folio {pfn:x}: pincount {lf.Pincount} but {pins} pins");
                if (lf.LargeMapcount != folioMapcount) errors.Add($"folio {pfn:x}: large mapcount {lf.LargeMapcount} but {folioMapcount} mappings");
                CheckMmIds(pfn, lf, _folios[pfn], errors);
                if (lf.NrPagesMapped != mappedPages)
                    errors.Add($"folio {pfn:x}: nr_pages_mapped {lf.NrPagesMapped} but {mappedPages} pages PTE-mapped");
                // nr_anon counts folios that became anon (folio->mapping); the only large "anon" folio
                // that never did is a shmem folio swapped out and still in the swap cache, unmapped.
                if (kind == PageKind.Anon && lf.AnonVma != 0) nrAnon[order]++;
                else if (kind == PageKind.Anon && (!k.InSwapCache(pfn) || folioMapcount > 0))
                    errors.Add($"folio {pfn:x}: anon folio of order {order} without an anon_vma, {(folioMapcount > 0 ? "mapped" : "not in the swap cache")}");
                if (map.Test(pfn, PageFlags.PartiallyMapped))
                {
                    nrPartial[order]++;
                    if (!map.Test(pfn, PageFlags.DeferredQueued)) errors.Add($"folio {pfn:x}: partially mapped but not queued for deferred split");
                }
                if (map.Test(pfn, PageFlags.DeferredQueued)) queued++;
                if (entire > 0 && kind == PageKind.Anon) anonThps += nr;
            }
            pfn += nr;
        }
        // PTE tallies the walk did not reach (and zero) are left for the next check to clear.
        _pteMapsZeroed = zeroed == _pteTallies;
        // Mappings of frames above the frontier (tallied, but the walk above never reached them).
        for (int pfn = frontier; pfn <= _maxTallied; pfn++)
            if (_pteMaps[pfn] > 0 || _folios[pfn].PmdMaps > 0) errors.Add($"PFN {pfn:x} is mapped but was never allocated");
        if (anonMapped != k.NrAnonMapped) errors.Add($"NR_ANON_MAPPED {k.NrAnonMapped} != {anonMapped} mapped anon pages");
        if (anonThps != k.NrAnonThps) errors.Add($"NR_ANON_THPS {k.NrAnonThps} != {anonThps} PMD-mapped anon pages");
        if (fileMapped != k.NrFileMapped) errors.Add($"NR_FILE_MAPPED {k.NrFileMapped} != {fileMapped} mapped shmem pages");
        if (shmemPmdMapped != k.NrShmemPmdMapped) errors.Add($"NR_SHMEM_PMDMAPPED {k.NrShmemPmdMapped} != {shmemPmdMapped} PMD-mapped shmem pages");
        if (shmemPages != k.NrShmem) errors.Add($"NR_SHMEM {k.NrShmem} != {shmemPages} shmem pages in page caches");
        if (shmemThps != k.NrShmemThps) errors.Add($"NR_SHMEM_THPS {k.NrShmemThps} != {shmemThps} pages of PMD-sized shmem folios");
        if (swapCached != (k.SwapCache?.Pages ?? 0)) errors.Add($"NR_SWAPCACHE {k.SwapCache?.Pages} != {swapCached} pages of folios in the swap cache");
        CheckPageCaches(k, errors);
        if (pageTables != k.NrPageTablePages || pageTables != pageTablesSeen)
            errors.Add($"page tables: counter {k.NrPageTablePages}, allocated {pageTables}, in use {pageTablesSeen}");
        if (kernelPages != k.NrKernelPages || pinnedPages != k.NrPinnedPages || fileCachePages != k.NrFileCachePages)
            errors.Add($"aged memory: {kernelPages} kernel, {pinnedPages} pinned and {fileCachePages} page cache pages, counters {k.NrKernelPages}, {k.NrPinnedPages} and {k.NrFileCachePages}");
        if (queued != k.DeferredSplitQueueLength || k.DeferredSplitQueue().Count() != queued)
            errors.Add($"deferred split queue length {k.DeferredSplitQueueLength} != {queued} queued folios");
        for (int o = 1; o <= k.Geo.PmdOrder; o++)
        {
            if (k.Stats.Get(o, MthpStat.NrAnon) != nrAnon[o])
                errors.Add($"{k.SizeDir(o)}/stats/nr_anon {k.Stats.Get(o, MthpStat.NrAnon)} != {nrAnon[o]} folios");
            if (k.Stats.Get(o, MthpStat.NrAnonPartiallyMapped) != nrPartial[o])
                errors.Add($"{k.SizeDir(o)}/stats/nr_anon_partially_mapped {k.Stats.Get(o, MthpStat.NrAnonPartiallyMapped)} != {nrPartial[o]}");
        }
        return freeKinds;
    }

    /// <summary>The first index of [from, end) whose count is not zero, or end.</summary>
    static int NextNonZero(int[] counts, int from, int end)
    {
        int at = counts.AsSpan(from, end - from).IndexOfAnyExcept(0);
        return at < 0 ? end : from + at;
    }

    /// <summary>
    /// The free lists against the memmap; <paramref name="freeKinds"/> is the folio walk's count of
    /// pages marked free. Walks what <see cref="PageAlloc.BuddyAllocator.FreeBlocks"/> yields, in the
    /// same order: each list entry that is still a free head of its order, once.
    /// </summary>
    void CheckBuddy(Kernel k, long freeKinds, List<string> errors)
    {
        var map = k.Map;
        long freeBelowFrontier = 0;
        var buddy = k.Buddy;
        Span<long> perSlot = stackalloc long[(buddy.MaxOrder + 1) * MigrateTypes.PcpTypes];
        perSlot.Clear();
        // A valid entry's PFN has the list's order in the memmap, so one mark per check tells a repeat in any list.
        _listed.Clear();
        for (int order = 0; order <= buddy.MaxOrder; order++)
            for (int t = 0; t < MigrateTypes.PcpTypes; t++)
                foreach (int pfn in buddy.FreeList(order, (MigrateType)t))
                {
                    if (pfn < 0 || pfn >= map.Capacity || map.Kind(pfn) != PageKind.FreeHead || map.Order(pfn) != order) continue;
                    if (buddy.BlockType(pfn) != (MigrateType)t) continue;   // moved to another type's list
                    if (!_listed.Add(pfn)) continue;
                    CheckFreeBlock(map, pfn, order, errors);
                    if (order > buddy.PageblockOrder)
                        for (long b = pfn; b < pfn + (1L << order); b += buddy.PageblockPages)
                            if (buddy.BlockType(b) != (MigrateType)t)
                                errors.Add($"free block {pfn:x} of order {order} on the {MigrateTypes.Name((MigrateType)t)} list spans a {MigrateTypes.Name(buddy.BlockType(b))} pageblock at {b:x}");
                    perSlot[order * MigrateTypes.PcpTypes + t]++;
                    freeBelowFrontier += 1L << order;
                }
        for (int o = 0; o <= buddy.MaxOrder; o++)
            for (int t = 0; t < MigrateTypes.PcpTypes; t++)
                if (perSlot[o * MigrateTypes.PcpTypes + t] != buddy.NrFree(o, (MigrateType)t))
                    errors.Add($"buddy order {o} {MigrateTypes.Name((MigrateType)t)}: nr_free {buddy.NrFree(o, (MigrateType)t)} but {perSlot[o * MigrateTypes.PcpTypes + t]} blocks listed");
        for (long b = (buddy.Frontier + buddy.PageblockPages - 1) >> buddy.PageblockOrder; b < buddy.NrPageblocks; b++)
            if (buddy.BlockType(b << buddy.PageblockOrder) != buddy.FreshType)
            {
                errors.Add($"pageblock {b << buddy.PageblockOrder:x} above the frontier is {MigrateTypes.Name(buddy.BlockType(b << buddy.PageblockOrder))}, not {MigrateTypes.Name(buddy.FreshType)}");
                break;
            }
        if (freeKinds != freeBelowFrontier)
            errors.Add($"buddy: {freeKinds} pages marked free but free lists hold {freeBelowFrontier}");
        if (k.Buddy.FreePages != freeBelowFrontier + (k.Buddy.TotalPages - k.Buddy.Frontier))
            errors.Add($"buddy: FreePages {k.Buddy.FreePages} inconsistent with free lists");
    }

    static void CheckFreeBlock(MemMap map, int pfn, int order, List<string> errors)
    {
        if ((pfn & ((1 << order) - 1)) != 0) errors.Add($"free block {pfn:x} of order {order} is misaligned");
        int from = pfn + 1, end = pfn + (1 << order), inMap = Math.Min(end, map.Capacity);
        // the first page that is not a free tail, or past the frames in use
        int p = from < inMap ? map.NextNotFreeTail(from, inMap) : from;
        if (p < end) errors.Add($"free block {pfn:x} order {order} contains a used page {p:x}");
    }

    /// <summary>
    /// What CONFIG_MM_ID guarantees: a slot never counts more mappings than its mm has (it can count
    /// fewer: mappings added while no slot was free are later subtracted from a slot, a corner case the
    /// kernel accepts), and a folio not marked maybe-mapped-shared is mapped by one mm only.
    /// </summary>
    static void CheckMmIds(int head, in LargeFolioInfo lf, in FolioTally t, List<string> errors)
    {
        if (lf.MmId0 != 0 && lf.MmCount0 > t.Slot0)
            errors.Add($"folio {head:x}: mm slot 0 (mm {lf.MmId0}) counts {lf.MmCount0}, more than the {t.Slot0} mappings of that mm");
        if (lf.MmId1 != 0 && lf.MmCount1 > t.Slot1)
            errors.Add($"folio {head:x}: mm slot 1 (mm {lf.MmId1}) counts {lf.MmCount1}, more than the {t.Slot1} mappings of that mm");
        if (!lf.MaybeMappedShared && t.Mms > 1)
            errors.Add($"folio {head:x}: not marked maybe-mapped-shared but mapped by {t.Mms} mms");
    }

    /// <summary>A shmem page mapped at addr is the page the file's page cache holds at that VMA's file index.</summary>
    static void CheckFileMapping(Kernel k, MmStruct mm, ulong addr, int pfn, List<string> errors)
    {
        var vma = mm.FindVma(addr);
        if (vma?.File == null) { errors.Add($"{mm.Name}: shmem page {pfn:x} mapped at {addr:x} outside a file mapping"); return; }
        long index = k.LinearPageIndex(vma, addr);
        int head = vma.File.Cache.Lookup(index);
        if (head < 0 || k.ShmemOwner(head) is not { } owner || head + (int)(index - owner.Index) != pfn)
            errors.Add($"{mm.Name}: {addr:x} maps shmem page {pfn:x}, but {vma.File.Name} caches {(head < 0 ? "nothing" : $"folio {head:x}")} at index {index}");
    }

    /// <summary>Every file's page cache: its pages are the blocks it holds, each page reads what was last written to the file there.</summary>
    void CheckPageCaches(Kernel k, List<string> errors)
    {
        var map = k.Map;
        Span<uint> contents = stackalloc uint[512];
        var mountUse = new Dictionary<Shmem.TmpfsMount, long>();
        foreach (var f in k.Files)
        {
            if (f.Cache.Pages + f.Cache.SwappedPages != f.AllocedPages)
                errors.Add($"{f.Name}: {f.Cache.Pages} pages cached and {f.Cache.SwappedPages} swapped, but {f.AllocedPages} blocks held");
            if (f.Cache.Nodes.Unsettled)
                errors.Add($"{f.Name}: the page cache's xarray nodes were changed and never charged or freed");
            else if (f.Cache.RecountNodes() is var nodes && nodes != f.Cache.Nodes.Count)
                errors.Add($"{f.Name}: the page cache's entries need {nodes} xarray nodes, {f.Cache.Nodes.Count} are allocated");
            if (f.AnyWrittenHole())
                foreach (var (index, want) in f.WrittenPages())
                    if (f.Cache.Lookup(index) < 0 && !f.Cache.IsSwap(index, out _, out _))
                    {
                        errors.Add($"{f.Name}: page {index} is a hole, the file should read {want}");
                        break;
                    }
            if (f.Mount != null) mountUse[f.Mount] = mountUse.GetValueOrDefault(f.Mount) + f.AllocedPages;
            _fileFolios.Clear();
            f.Cache.Folios(0, long.MaxValue, h => 1 << map.Order(h), _fileFolios);
            foreach (var (index, head) in _fileFolios)
            {
                if (map.Kind(head) != PageKind.Shmem || map.HeadOf(head) != head || k.ShmemOwner(head) is not { } owner || owner.File != f || owner.Index != index)
                {
                    errors.Add($"{f.Name}: index {index} holds {head:x}, which is not a shmem folio of this file at this index");
                    continue;
                }
                bool uptodate = k.ShmemFolioUptodate(head);
                if (ReadsAsWritten(map, f, head, index, uptodate, contents)) continue;
                for (int i = 0; i < 1 << map.Order(head); i++)
                {
                    uint want = f.ExpectedContent(index + i), actual = map.Content(head + i);
                    if (actual != want || (!uptodate && actual != 0))
                    {
                        errors.Add($"{f.Name}: page {index + i} holds content {actual}, the file should read {want}{(uptodate ? "" : " (not uptodate)")}");
                        break;
                    }
                }
            }
        }
        foreach (var (m, used) in mountUse)
            if (m.UsedPages != used) errors.Add($"tmpfs {m.Name}: {m.UsedPages} pages used but its files hold {used}");
    }
}
