using MthpSim.Core.Folio;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// tools/mm/thpmaps: how THPs are mapped, computed from pagemap and kpageflags, here over a range.
public sealed partial class Kernel
{
    /// <summary>
    /// The thpmaps statistics over [start, end) of an address space, in kB, keyed as the tool prints
    /// them, with contiguous-block keys for every order from 1 to PMD. As the tool does, VMAs with
    /// Rss 0 are skipped, only THP pages (large folios, the huge zero folio as file) are considered,
    /// runs are contiguous virtually and physically, and PMD-mapped memory is subtracted from the
    /// PMD-order PTE counts.
    /// </summary>
    public SortedDictionary<string, long> Thpmaps(MmStruct mm, ulong start, ulong end)
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        int pmdOrder = Geo.PmdOrder;
        long kbPerPage = Geo.PageSize >> 10;
        var anon = new ThpTally(pmdOrder);
        var file = new ThpTally(pmdOrder);
        long anonPmdKb = 0;
        foreach (var vma in mm.Intersecting(start, end))
        {
            var mss = SmapsGather(vma);
            if (mss.Resident == 0) continue;
            ulong s = Math.Max(start, vma.Start), e = Math.Min(end, vma.End);
            var pages = CollectThpPages(mm, s, e);
            ParseRuns(pages, anon, file);
            anonPmdKb += PmdMappedKb(mm, s, e);
        }
        result[$"anon-thp-pmd-aligned-{Geo.SizeOfOrderKb(pmdOrder)}kB"] = anonPmdKb;
        result[$"file-thp-pmd-aligned-{Geo.SizeOfOrderKb(pmdOrder)}kB"] = 0;
        anon.Aligned[pmdOrder] = Math.Max(0, anon.Aligned[pmdOrder] - anonPmdKb / kbPerPage);
        foreach (var (name, t) in new[] { ("anon", anon), ("file", file) })
        {
            for (int o = 2; o <= pmdOrder; o++)
            {
                result[$"{name}-thp-pte-aligned-{Geo.SizeOfOrderKb(o)}kB"] = t.Aligned[o] * kbPerPage;
                result[$"{name}-thp-pte-unaligned-{Geo.SizeOfOrderKb(o)}kB"] = t.Unaligned[o] * kbPerPage;
            }
            result[$"{name}-thp-pte-partial"] = t.Partial * kbPerPage;
            for (int o = 1; o <= pmdOrder; o++)
            {
                long nrPmd = name == "anon" ? anonPmdKb / kbPerPage : 0;
                result[$"{name}-cont-pte-aligned-{Geo.SizeOfOrderKb(o)}kB"] = Math.Max(0, t.Cont[o] - nrPmd) * kbPerPage;
                result[$"{name}-cont-pmd-aligned-{Geo.SizeOfOrderKb(o)}kB"] = name == "anon" ? anonPmdKb : 0;
            }
        }
        return result;
    }

    sealed class ThpTally(int pmdOrder)
    {
        public long Partial;
        public long[] Aligned = new long[pmdOrder + 1];
        public long[] Unaligned = new long[pmdOrder + 1];
        public long[] Cont = new long[pmdOrder + 1];
    }

    readonly record struct ThpPage(long Vfn, int Pfn, bool Anon, bool Head);

    List<ThpPage> CollectThpPages(MmStruct mm, ulong start, ulong end)
    {
        var pages = new List<ThpPage>();
        for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
        {
            int pfn = ResolvePfn(mm, addr, out var kind);
            if (pfn < 0) continue;
            int head = Map.HeadOf(pfn);
            if (Map.Order(head) == 0) continue;   // KPF_THP needs a large folio
            pages.Add(new ThpPage((long)(addr >> PageShift), pfn, Map.Kind(pfn) == PageKind.Anon, pfn == head));
        }
        return pages;
    }

    /// <summary>models thp_parse() and cont_parse() over the runs of one VMA.</summary>
    void ParseRuns(List<ThpPage> pages, ThpTally anon, ThpTally file)
    {
        int i = 0;
        while (i < pages.Count)
        {
            int j = i + 1;
            while (j < pages.Count && pages[j].Vfn == pages[j - 1].Vfn + 1 && pages[j].Pfn == pages[j - 1].Pfn + 1) j++;
            ParseRun(pages, i, j, anon, file);
            i = j;
        }
    }

    void ParseRun(List<ThpPage> pages, int first, int end, ThpTally anon, ThpTally file)
    {
        ThpTally T(int idx) => pages[idx].Anon ? anon : file;
        var heads = new List<int>();
        for (int k = first; k < end; k++) if (pages[k].Head) heads.Add(k);
        int lead = (heads.Count > 0 ? heads[0] : end) - first;
        T(first).Partial += lead;
        int runEnd = end;
        if (heads.Count > 0)
        {
            int nextPfn = pages[end - 1].Pfn + 1;
            bool nextIsTail = nextPfn < Map.Capacity && Map.Kind(nextPfn) is PageKind.Anon or PageKind.HugeZero
                && Map.Order(nextPfn) > 0 && Map.HeadOf(nextPfn) != nextPfn;
            if (nextIsTail)
            {
                int last = heads[^1];
                heads.RemoveAt(heads.Count - 1);
                T(runEnd - 1).Partial += runEnd - last;
                runEnd = last;
            }
        }
        for (int h = 0; h < heads.Count; h++)
        {
            int idx = heads[h];
            long nr = (h + 1 < heads.Count ? heads[h + 1] : runEnd) - idx;
            int order = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)nr);
            bool aligned = (pages[idx].Vfn & ((1L << order) - 1)) == 0;
            (aligned ? T(idx).Aligned : T(idx).Unaligned)[order] += 1L << order;
        }
        // cont_parse() for every block order.
        for (int o = 1; o <= Geo.PmdOrder; o++)
        {
            long nrCont = 1L << o;
            long vfnStart = pages[first].Vfn, pfnStart = pages[first].Pfn;
            if ((vfnStart & (nrCont - 1)) != (pfnStart & (nrCont - 1))) continue;
            long off = ((vfnStart + nrCont - 1) & ~(nrCont - 1)) - vfnStart;
            for (long k = first + off; k + nrCont <= end; k += nrCont)
            {
                bool boundary = false;
                for (long q = k + 1; q < k + nrCont && !boundary; q++) boundary = pages[(int)q].Head;
                if (!boundary) T((int)k).Cont[o] += nrCont;
            }
        }
    }

    /// <summary>Anon memory in [start, end) mapped by PMD, in kB (the part of AnonHugePages inside the range).</summary>
    long PmdMappedKb(MmStruct mm, ulong start, ulong end)
    {
        long pages = 0;
        for (ulong addr = start; addr < end; addr += (ulong)Geo.PageSize)
        {
            ResolvePfn(mm, addr, out var kind);
            if (kind == MappingKind.PmdPage) pages++;
        }
        return PagesToKb(pages);
    }
}
