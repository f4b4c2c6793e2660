using System.Runtime.CompilerServices;
using MthpSim.Core.Arch;
using MthpSim.Core.Folio;
using MthpSim.Core.PageAlloc;
using MthpSim.Core.Stats;
using MthpSim.Core.Swap;
using MthpSim.Core.Thp;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

/// <summary>
/// One simulated Linux 6.18 machine: physical memory, address spaces, THP settings and counters.
/// Its public methods are the syscall-like surface the scenario runner uses (mmap, munmap, mprotect,
/// madvise, prctl, memory access, sysfs and procfs reads). No static mutable state: any number of
/// kernels can run side by side. The partial files group the model by kernel source file.
/// </summary>
public sealed partial class Kernel
{
    public MachineConfig Config { get; }
    public Geometry Geo { get; }
    public MemMap Map { get; }
    public BuddyAllocator Buddy { get; }
    public ThpSettings Thp { get; }
    public Counters Stats { get; }
    /// <summary>The machine's one swap device (swap_info[0]), or null without swap.</summary>
    public SwapDevice? SwapInfo { get; }
    /// <summary>Paths taken that no kernel counter shows (for test coverage).</summary>
    public PathCounts Paths { get; } = new();
    /// <summary>When set, every write records what the program must read back (the <c>intact</c> oracle).</summary>
    public bool TrackExpectedContent { get; set; } = true;
    /// <summary>
    /// arch_pkeys_enabled(): the CPU has memory protection keys and the kernel uses them (x86 PKU,
    /// "ospke" in /proc/cpuinfo), so smaps shows each VMA's ProtectionKey. On by default on x86_64,
    /// as on most x86 servers; the oracle sets it from the live CPU.
    /// </summary>
    public bool ProtectionKeys { get; set; }
    /// <summary>Bugs a test switches on to prove that a checker catches them; never set otherwise.</summary>
    internal InjectedFault InjectedFaults { get; set; }

    readonly List<MmStruct> _mms = new();
    int _nextMmId = 1;
    int _nextAnonVma = 1;
    long _rmapSeq;
    uint _nextToken = 1;

    /// <summary>NR_ANON_MAPPED: anon pages mapped at least once (meminfo AnonPages).</summary>
    internal long NrAnonMapped;
    /// <summary>NR_ANON_THPS in pages: anon pages mapped by PMD (meminfo AnonHugePages).</summary>
    internal long NrAnonThps;
    /// <summary>Page table pages allocated (meminfo PageTables).</summary>
    internal long NrPageTablePages;

    public Kernel(MachineConfig config)
    {
        Config = config;
        Geo = new Geometry(config.PageSize, config.Arch);
        ProtectionKeys = config.Arch == Arch.CpuArch.X86_64;
        _pageShift = Geo.PageShift;
        _pmdShift = Geo.PageShift + Geo.PmdOrder;
        _pteIndexMask = (1UL << Geo.PmdOrder) - 1;
        long pages = config.MemoryBytes / Geo.PageSize;
        long maxPages = MaxSimulatedPages(swap: config.SwapBytes > 0);
        if (pages < (1L << Geo.PmdOrder) || pages > maxPages)
            throw new ArgumentException(
                $"memory={SizeText(config.MemoryBytes)} is outside what this host can simulate: from {SizeText(Geo.PmdSize)} " +
                $"to {SizeText(maxPages * Geo.PageSize)} with {SizeText(Geo.PageSize)} pages ({SizeText(HostMemoryBytes)} of host memory, " +
                $"up to {WorstHostBytesPerPage + (config.SwapBytes > 0 ? SwapHostBytesPerPage : 0)} bytes of it per simulated page)");
        InitCostAccounting();
        Map = new MemMap(pages);
        _shmemOwner = new Shmem.ShmemOwnerTable(pages);
        Buddy = new BuddyAllocator(Map, Geo.MaxPageOrder, Geo.PmdOrder);
        Thp = new ThpSettings(Geo);
        Stats = new Counters(Geo.PmdOrder);
        CollapseMetrics = new Khugepaged.CollapseMetrics(Geo.PmdOrder);
        _deferredHead = _deferredTail = -1;
        if (config.SwapBytes > 0)
        {
            long swapPages = config.SwapBytes / Geo.PageSize;
            // mkswap needs 10 pages; a slot offset must fit in a shmem page cache's value entry
            long maxSwapPages = Shmem.PageCache.MaxSwapOffset;
            if (swapPages < 10 || swapPages > maxSwapPages)
                throw new ArgumentException($"swap={SizeText(config.SwapBytes)} must be from {SizeText(10L * Geo.PageSize)} to {SizeText(maxSwapPages * Geo.PageSize)}");
            SwapInfo = new SwapDevice(config.SwapDevice, swapPages, Geo.PmdOrder);
            SwapCache = new SwapCache(Map.TotalPages);
            SwapInfo.ReclaimCacheOnly = ReclaimCachedSlot;
            Lru = new Reclaim.FolioLru(Map.TotalPages);
            SmallRmap = new SmallAnonRmap(Map.TotalPages);
            RootLruvec = new Reclaim.Lruvec(null, null);
        }
        InitPerZoneWmarkMin();   // at boot, with the default THP settings
    }

    public IReadOnlyList<MmStruct> Processes => _mms;

    /// <summary>Host bytes one simulated page in use may cost at most (per-frame state, page tables, expected content, large-folio records).</summary>
    public const int WorstHostBytesPerPage = 40;
    /// <summary>What a swap device adds per simulated page: the swap cache's folio->swap (4), folio->lru (9), the rmap of small folios (12).</summary>
    public const int SwapHostBytesPerPage = 25;

    /// <summary>The host's memory (or the container's limit), as the runtime sees it.</summary>
    static long HostMemoryBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The most pages a machine may have: what host memory can hold if every page is used, and what a PFN can address.</summary>
    public static long MaxSimulatedPages(bool swap = false) =>
        Math.Min(int.MaxValue, HostMemoryBytes / (WorstHostBytesPerPage + (swap ? SwapHostBytesPerPage : 0)));

    static string SizeText(long bytes) =>
        bytes >= 1L << 40 && bytes % (1L << 40) == 0 ? $"{bytes >> 40}T"
        : bytes >= 1L << 30 ? $"{bytes >> 30}G"
        : bytes >= 1L << 20 ? $"{bytes >> 20}M"
        : $"{bytes >> 10}K";

    readonly List<string> _dmesg = new();
    readonly HashSet<string> _warnedOnce = new();

    /// <summary>Kernel log lines (what dmesg would show), oldest first.</summary>
    public IReadOnlyList<string> Dmesg => _dmesg;

    /// <summary>models pr_warn_once(): a message logged the first time only.</summary>
    internal void PrWarnOnce(string message)
    {
        if (_warnedOnce.Add(message)) _dmesg.Add(message);
    }

    /// <summary>Creates a process with an empty address space.</summary>
    public MmStruct CreateProcess(string name)
    {
        var mm = new MmStruct(_nextMmId++, name, new PageTable.PageTables(Geo.PmdOrder, pudLevel: Geo.PageTableLevels >= 4));
        _mms.Add(mm);
        return mm;
    }

    /// <summary>
    /// models anon_vma_chain_link() and anon_vma_interval_tree_post_update_vma(): the VMA's chain
    /// entries go (back) into the anon_vma interval trees, behind every entry already there with the
    /// same vm_pgoff. Does nothing for a VMA without an anon_vma (it is in no tree).
    /// </summary>
    internal void AnonVmaRelink(Vma.Vma vma)
    {
        if (vma.AnonVma != 0) vma.RmapSeq = ++_rmapSeq;
    }

    /// <summary>A fresh content token for one page write (never 0, never with the MaybeZero bit).</summary>
    internal uint NextToken() => NextTokens(1);

    /// <summary>The content the next store writes (stores take consecutive tokens, in page order), for a test harness's own record.</summary>
    public uint NextStoreToken => _nextToken;

    /// <summary>Fresh tokens for n page writes in a row: the first of n consecutive tokens.</summary>
    internal uint NextTokens(int n)
    {
        uint t = _nextToken;
        if ((ulong)t + (ulong)n > _nextDroppedToken) throw new InvalidOperationException("content token space exhausted");
        _nextToken += (uint)n;
        return t;
    }

    // The geometry the hot paths need, kept in fields so that it inlines to shifts and masks.
    readonly int _pageShift, _pmdShift;
    readonly ulong _pteIndexMask;

    internal int PageShift => _pageShift;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long PmdIndex(ulong addr) => (long)(addr >> _pmdShift);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int PteIndex(ulong addr) => (int)((addr >> _pageShift) & _pteIndexMask);
    internal ulong PmdBase(long pmdIndex) => (ulong)pmdIndex << _pmdShift;
}
