namespace MthpSim.Core.Proc;

/// <summary>One present page of a large folio, as pagemap and kpageflags describe it.</summary>
/// <param name="Vfn">Virtual page number.</param>
/// <param name="Pfn">Page frame number.</param>
/// <param name="Anon">KPF_ANON.</param>
/// <param name="Head">KPF_COMPOUND_HEAD.</param>
/// <param name="NextIsTail">Whether PFN+1 is a compound tail (KPF_COMPOUND_TAIL), for the partial-at-the-back rule.</param>
public readonly record struct ThpPage(long Vfn, long Pfn, bool Anon, bool Head, bool NextIsTail);

/// <summary>One VMA (or the part of it in the observed range), with what the tool takes from its smaps entry.</summary>
/// <param name="Accessible">Readable, writable or executable: the tool skips PROT_NONE VMAs.</param>
/// <param name="RssPositive">smaps Rss &gt; 0: the tool skips VMAs with nothing resident.</param>
/// <param name="Pages">The present KPF_THP pages, in ascending virtual order.</param>
/// <param name="AnonPmdPages">AnonHugePages, in pages.</param>
/// <param name="FilePmdPages">ShmemPmdMapped + FilePmdMapped, in pages.</param>
public sealed record ThpmapsVma(bool Accessible, bool RssPositive, IReadOnlyList<ThpPage> Pages, long AnonPmdPages, long FilePmdPages = 0)
{
    /// <summary>Whether the tool parses this VMA at all (do_main's test before vma_parse()).</summary>
    public bool Parsed => Accessible && RssPositive;
}

/// <summary>
/// tools/mm/thpmaps' vma_parse(), thp_parse() and cont_parse(), with --rollup summing, as a pure
/// function so that the simulator and the live-kernel oracle compute the same keys the same way.
/// Values are in kB; the keys are the tool's with --inc-empty and a --cont block for every order
/// from 1 to the PMD order. <see cref="ComputeVma"/> gives one VMA's keys, empty when the tool
/// skips it (PROT_NONE, or Rss 0).
/// </summary>
public static class ThpmapsCalculator
{
    /// <summary>The --rollup over <paramref name="vmas"/>: each parsed VMA's keys summed. Every key is present (0 when nothing was parsed).</summary>
    public static SortedDictionary<string, long> Compute(IEnumerable<ThpmapsVma> vmas, int pmdOrder, long pageSizeKb)
    {
        var result = Keys(pmdOrder, pageSizeKb);
        foreach (var vma in vmas)
            foreach (var (k, v) in ComputeVma(vma, pmdOrder, pageSizeKb))
                result[k] += v;
        return result;
    }

    /// <summary>Every key the tool prints with --inc-empty and all --cont sizes, at 0.</summary>
    public static SortedDictionary<string, long> Keys(int pmdOrder, long pageSizeKb) =>
        Emit(new Tally(pmdOrder), new Tally(pmdOrder), 0, 0, pmdOrder, pageSizeKb);

    /// <summary>
    /// The keys in the order the tool prints them, each with whether it is an anonymous one: the THP
    /// keys, then per --cont order (duplicates once, as the tool's dict merges them) the cont keys.
    /// </summary>
    public static List<(string Key, bool Anon)> KeyOrder(int pmdOrder, long pageSizeKb, IEnumerable<int> contOrders)
    {
        string Kb(int order) => $"{pageSizeKb << order}kB";
        var keys = new List<(string, bool)> { ($"anon-thp-pmd-aligned-{Kb(pmdOrder)}", true), ($"file-thp-pmd-aligned-{Kb(pmdOrder)}", false) };
        foreach (var (type, anon) in new[] { ("anon", true), ("file", false) })
        {
            foreach (var align in new[] { "aligned", "unaligned" })
                for (int o = 2; o <= pmdOrder; o++) keys.Add(($"{type}-thp-pte-{align}-{Kb(o)}", anon));
            keys.Add(($"{type}-thp-pte-partial", anon));
        }
        foreach (int o in contOrders.Distinct())
            keys.AddRange([($"anon-cont-pmd-aligned-{Kb(o)}", true), ($"file-cont-pmd-aligned-{Kb(o)}", false),
                ($"anon-cont-pte-aligned-{Kb(o)}", true), ($"file-cont-pte-aligned-{Kb(o)}", false)]);
        return keys;
    }

    /// <summary>One VMA's keys as the tool prints them without --rollup; empty when it skips the VMA.</summary>
    public static SortedDictionary<string, long> ComputeVma(ThpmapsVma vma, int pmdOrder, long pageSizeKb)
    {
        if (!vma.Parsed) return new SortedDictionary<string, long>(StringComparer.Ordinal);
        var anon = new Tally(pmdOrder);
        var file = new Tally(pmdOrder);
        ParseRuns(vma.Pages, anon, file, pmdOrder);
        return Emit(anon, file, vma.AnonPmdPages, vma.FilePmdPages, pmdOrder, pageSizeKb);
    }

    /// <summary>The keys of one VMA's tallies; the PMD-mapped pages are taken out of the PTE counts, clamped at 0 per VMA as the tool does.</summary>
    static SortedDictionary<string, long> Emit(Tally anon, Tally file, long anonPmd, long filePmd, int pmdOrder, long pageSizeKb)
    {
        string Kb(int order) => $"{pageSizeKb << order}kB";
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, t, pmd) in new[] { ("anon", anon, anonPmd), ("file", file, filePmd) })
        {
            result[$"{name}-thp-pmd-aligned-{Kb(pmdOrder)}"] = pmd * pageSizeKb;
            for (int o = 2; o <= pmdOrder; o++)
            {
                long aligned = o == pmdOrder ? Math.Max(0, t.Aligned[o] - pmd) : t.Aligned[o];
                result[$"{name}-thp-pte-aligned-{Kb(o)}"] = aligned * pageSizeKb;
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

    /// <summary>Runs of pages contiguous both virtually and physically (cont_ranges_all() over vfns and pfns).</summary>
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
            // The last folio continues past the run. The tool types these pages by the page just
            // before that folio's head (index -1, numpy's last element, when the head is the VMA's first).
            int last = heads[^1];
            heads.RemoveAt(heads.Count - 1);
            T(last > 0 ? last - 1 : pages.Count - 1).Partial += runEnd - last;
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
