using System.Globalization;
using System.Text;
using MthpSim.Core.Folio;
using MthpSim.Core.Proc;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// tools/mm/thpmaps over the simulated pagemap and kpageflags.
public sealed partial class Kernel
{
    /// <summary>
    /// The thpmaps statistics over [start, end) of an address space, in kB (see <see cref="ThpmapsCalculator"/>).
    /// A VMA is skipped or kept as a whole (its protection, its Rss); of a VMA that reaches past the
    /// range only the pages in the range count, and its PMD-mapped pages in the range stand for AnonHugePages.
    /// </summary>
    public SortedDictionary<string, long> Thpmaps(MmStruct mm, ulong start, ulong end) =>
        ThpmapsCalculator.Compute(mm.Intersecting(start, end).Select(vma => ThpmapsVmaOf(mm, vma, Math.Max(start, vma.Start), Math.Min(end, vma.End))).ToList(),
            Geo.PmdOrder, Geo.PageSize >> 10);

    /// <summary>What the tool reads of [start, end) of one VMA; a skipped VMA's pages are never read, as the tool never reads them.</summary>
    ThpmapsVma ThpmapsVmaOf(MmStruct mm, Vma.Vma vma, ulong start, ulong end)
    {
        bool accessible = (vma.Flags & (VmFlags.Read | VmFlags.Write | VmFlags.Exec)) != 0;
        bool rss = SmapsGather(vma).Resident > 0;
        return accessible && rss
            ? new ThpmapsVma(true, true, CollectThpPages(mm, start, end), PmdMappedPages(mm, start, end, PageKind.Anon), PmdMappedPages(mm, start, end, PageKind.Shmem))
            : new ThpmapsVma(accessible, rss, [], 0);
    }

    /// <summary>
    /// models tools/mm/thpmaps' output for one process (do_main(), vma_print(), stats_print()): per VMA
    /// a line like the smaps header with the pid first, then each key with its value and its share of
    /// the VMA's anonymous or file memory; with <paramref name="rollup"/> one block summed over the
    /// VMAs. Keys at 0 only with <paramref name="incEmpty"/>; --cont blocks for <paramref name="contOrders"/>.
    /// The pid is the model's (<see cref="MmStruct.Pid"/>).
    /// </summary>
    public string RenderThpmaps(MmStruct mm, IEnumerable<Vma.Vma> vmas, bool rollup, bool incEmpty, IReadOnlyList<int> contOrders)
    {
        var sb = new StringBuilder();
        long pageKb = Geo.PageSize >> 10;
        var keys = ThpmapsCalculator.KeyOrder(Geo.PmdOrder, pageKb, contOrders);
        var sum = new Dictionary<string, long>();
        long sumAnon = 0, sumFile = 0;
        if (!rollup) sb.Append("       PID             START              END PROT   OFFSET   DEV    INODE OBJECT\n");
        foreach (var vma in vmas)
        {
            var tv = ThpmapsVmaOf(mm, vma, vma.Start, vma.End);
            var stats = ThpmapsCalculator.ComputeVma(tv, Geo.PmdOrder, pageKb);
            long anon = 0, file = 0;
            if (tv.Parsed)
            {
                var mss = SmapsGather(vma);
                anon = mss.Anonymous >> 10;
                file = (mss.Resident >> 10) - anon;
            }
            if (rollup)
            {
                foreach (var (k, _) in keys) if (stats.TryGetValue(k, out long v)) sum[k] = sum.GetValueOrDefault(k) + v;
                sumAnon += anon;
                sumFile += file;
                continue;
            }
            var (offset, dev, inode, name) = MapsIdentity(vma);
            sb.Append($"{mm.Pid:d10}: {vma.Start:x16}-{vma.End:x16} {MapsPerms(vma)} {offset:x8} {dev} {inode:x8} {name}\n");
            ThpmapsStatsPrint(sb, keys, stats, anon, file, incEmpty);
        }
        if (rollup) ThpmapsStatsPrint(sb, keys, sum, sumAnon, sumFile, incEmpty);
        return sb.ToString();
    }

    /// <summary>models stats_print(): label and colon padded to 32 columns, the value in 8, and the share rounded half to even as Python's format does.</summary>
    static void ThpmapsStatsPrint(StringBuilder sb, IReadOnlyList<(string Key, bool Anon)> keys, IReadOnlyDictionary<string, long> stats, long totAnon, long totFile, bool incEmpty)
    {
        foreach (var (key, isAnon) in keys)
        {
            if (!stats.TryGetValue(key, out long value) || (value == 0 && !incEmpty)) continue;
            long tot = isAnon ? totAnon : totFile;
            sb.Append(key).Append(':').Append(new string(' ', Math.Max(0, 32 - key.Length - 1)))
              .Append(value.ToString(CultureInfo.InvariantCulture).PadLeft(8)).Append(" kB");
            if (tot > 0)
                sb.Append(" (").Append((Math.Round(value / (double)tot * 100, MidpointRounding.ToEven).ToString("F0", CultureInfo.InvariantCulture) + "%").PadLeft(3)).Append(')');
            sb.Append('\n');
        }
    }

    /// <summary>Present pages of large folios (KPF_THP), as thpmaps reads them from pagemap and kpageflags.</summary>
    List<ThpPage> CollectThpPages(MmStruct mm, ulong start, ulong end)
    {
        var pages = new List<ThpPage>();
        for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
        {
            int pfn = ResolvePfn(mm, addr, out _);
            if (pfn < 0) continue;
            int head = Map.HeadOf(pfn);
            if (Map.Order(head) == 0) continue;
            pages.Add(new ThpPage((long)(addr >> PageShift), pfn, Map.Kind(pfn) == PageKind.Anon, pfn == head, IsCompoundTail(pfn + 1)));
        }
        return pages;
    }

    bool IsCompoundTail(int pfn) =>
        pfn < Map.Capacity && Map.Kind(pfn) is PageKind.Anon or PageKind.HugeZero or PageKind.Shmem && Map.Order(pfn) > 0 && Map.HeadOf(pfn) != pfn;

    /// <summary>Pages of [start, end) mapped by a PMD (what PAGEMAP_SCAN reports as PAGE_IS_HUGE) to a folio of this kind (AnonHugePages or ShmemPmdMapped).</summary>
    long PmdMappedPages(MmStruct mm, ulong start, ulong end, PageKind folioKind)
    {
        long pages = 0;
        for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
        {
            int pfn = ResolvePfn(mm, addr, out var kind);
            if (kind == MappingKind.PmdPage && Map.Kind(pfn) == folioKind) pages++;
        }
        return pages;
    }
}
