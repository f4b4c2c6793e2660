namespace MthpSim.Core.Proc;

/// <summary>One present page of a large folio, as pagemap and kpageflags describe it.</summary>
/// <param name="Vfn">Virtual page number.</param>
/// <param name="Pfn">Page frame number.</param>
/// <param name="Anon">KPF_ANON.</param>
/// <param name="Head">KPF_COMPOUND_HEAD.</param>
/// <param name="NextIsTail">Whether PFN+1 is a compound tail (KPF_COMPOUND_TAIL), for the partial-at-the-back rule.</param>
public readonly record struct ThpPage(long Vfn, long Pfn, bool Anon, bool Head, bool NextIsTail);

/// <summary>The THP pages of one VMA's part of a range, with what the tool takes from smaps.</summary>
public sealed record ThpmapsVma(bool RssPositive, IReadOnlyList<ThpPage> Pages, long PmdMappedPages);

/// <summary>
/// tools/mm/thpmaps' thp_parse() and cont_parse(), as a pure function so that the simulator and the
/// live-kernel oracle compute the same keys the same way. Only VMAs with Rss > 0 count; runs are
/// pages contiguous both virtually and physically; PMD-mapped memory is subtracted from the
/// PMD-order PTE counts. Values are in kB; the keys are the tool's (with a contiguous-block key for
/// every order from 1 to the PMD order).
/// </summary>
public static class ThpmapsCalculator
{
    public static SortedDictionary<string, long> Compute(IEnumerable<ThpmapsVma> vmas, int pmdOrder, long pageSizeKb)
    {
        var anon = new Tally(pmdOrder);
        var file = new Tally(pmdOrder);
        long pmdPages = 0;
        foreach (var vma in vmas)
        {
            if (!vma.RssPositive) continue;
            ParseRuns(vma.Pages, anon, file, pmdOrder);
            pmdPages += vma.PmdMappedPages;
        }
        string Kb(int order) => $"{pageSizeKb << order}kB";
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            [$"anon-thp-pmd-aligned-{Kb(pmdOrder)}"] = pmdPages * pageSizeKb,
            [$"file-thp-pmd-aligned-{Kb(pmdOrder)}"] = 0,
        };
        anon.Aligned[pmdOrder] = Math.Max(0, anon.Aligned[pmdOrder] - pmdPages);
        foreach (var (name, t, pmd) in new[] { ("anon", anon, pmdPages), ("file", file, 0L) })
        {
            for (int o = 2; o <= pmdOrder; o++)
            {
                result[$"{name}-thp-pte-aligned-{Kb(o)}"] = t.Aligned[o] * pageSizeKb;
                result[$"{name}-thp-pte-unaligned-{Kb(o)}"] = t.Unaligned[o] * pageSizeKb;
            }
            result[$"{name}-thp-pte-partial"] = t.Partial * pageSizeKb;
            for (int o = 1; o <= pmdOrder; o++)
            {
                result[$"{name}-cont-pte-aligned-{Kb(o)}"] = Math.Max(0, t.Cont[o] - pmd) * pageSizeKb;
                result[$"{name}-cont-pmd-aligned-{Kb(o)}"] = pmd * pageSizeKb;
            }
        }
        return result;
    }

    sealed class Tally(int pmdOrder)
    {
        public long Partial;
        public readonly long[] Aligned = new long[pmdOrder + 1];
        public readonly long[] Unaligned = new long[pmdOrder + 1];
        public readonly long[] Cont = new long[pmdOrder + 1];
    }

    static void ParseRuns(IReadOnlyList<ThpPage> pages, Tally anon, Tally file, int pmdOrder)
    {
        int i = 0;
        while (i < pages.Count)
        {
            int j = i + 1;
            while (j < pages.Count && pages[j].Vfn == pages[j - 1].Vfn + 1 && pages[j].Pfn == pages[j - 1].Pfn + 1) j++;
            ParseRun(pages, i, j, anon, file, pmdOrder);
            i = j;
        }
    }

    /// <summary>models thp_parse() for one run [first, end), then cont_parse() for every block order.</summary>
    static void ParseRun(IReadOnlyList<ThpPage> pages, int first, int end, Tally anon, Tally file, int pmdOrder)
    {
        Tally T(int idx) => pages[idx].Anon ? anon : file;
        var heads = new List<int>();
        for (int k = first; k < end; k++) if (pages[k].Head) heads.Add(k);
        // Pages before the first head belong to a folio that starts outside the run.
        T(first).Partial += (heads.Count > 0 ? heads[0] : end) - first;
        int runEnd = end;
        if (heads.Count > 0 && pages[end - 1].NextIsTail)
        {
            // The last folio continues past the run.
            int last = heads[^1];
            heads.RemoveAt(heads.Count - 1);
            T(runEnd - 1).Partial += runEnd - last;
            runEnd = last;
        }
        for (int h = 0; h < heads.Count; h++)
        {
            int idx = heads[h];
            long nr = (h + 1 < heads.Count ? heads[h + 1] : runEnd) - idx;
            int order = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)nr);
            bool aligned = (pages[idx].Vfn & ((1L << order) - 1)) == 0;
            (aligned ? T(idx).Aligned : T(idx).Unaligned)[order] += 1L << order;
        }
        for (int o = 1; o <= pmdOrder; o++)
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
}
