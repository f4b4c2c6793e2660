using MthpSim.Core;

namespace MthpSim.Bench.Patterns;

/// <summary>
/// <c>khugepaged-scan-MIX</c>: one khugepaged round over a region filled with order-0 folios, 64K
/// folios, or 2M folios mapped by PTEs; reported per PTE examined.
/// </summary>
/// <remarks>
/// Every PMD range is made to be examined in full and never collapsed, so rounds can repeat and the
/// time is all scanning: the last page of each 2M is dropped (MADV_DONTNEED; for 2M folios this also
/// splits the PMD mapping into PTEs) and max_ptes_none is 0, so the scan fails with
/// SCAN_EXCEED_NONE_PTE at the last PTE after looking at all 512.
/// </remarks>
internal static class KhugepagedPatterns
{
    static readonly (string Mix, int Order)[] Mixes = [("4K", 0), ("64K", 4), ("pte-mapped-2M", BenchMachine.PmdOrder)];

    public static IEnumerable<BenchPattern> All(BenchScale scale) => Mixes.Select(m => new BenchPattern
    {
        Name = $"khugepaged-scan-{m.Mix}",
        Family = "khugepaged",
        Unit = "pte",
        Description = $"one khugepaged round over {WritePatterns.Size(scale)} of {m.Mix} folios, each PMD range examined in full without collapse; ns per PTE",
        Prepare = () => Prepare(scale, m.Order),
        Targets = [BenchTarget.KhugepagedPtesPerSecond, BenchTarget.HostBytesPerPage],
    });

    static PreparedRun Prepare(BenchScale scale, int fillOrder)
    {
        var pmdSettings = BenchMachine.SizeSettings(BenchMachine.PmdOrder);
        var k = BenchMachine.Create(BenchMachine.SizeSettings(fillOrder));
        var mm = k.CreateProcess("bench");
        ulong start = BenchMachine.MapRegion(k, mm, scale.RegionBytes);
        BenchMachine.Touch(k, mm, start, scale.RegionBytes, write: true);
        ulong pmd = (ulong)k.Geo.PmdSize, page = (ulong)k.Geo.PageSize;
        for (ulong a = start; a < start + (ulong)scale.RegionBytes; a += pmd)
        {
            long rc = k.Madvise(mm, a + pmd - page, page, MadviseAdvice.Dontneed);
            if (rc != 0) throw new InvalidOperationException($"bench setup: MADV_DONTNEED failed ({Errno.Name(rc)})");
        }
        BenchMachine.Apply(k, pmdSettings);
        // MADV_HUGEPAGE registers the mm with khugepaged (khugepaged_enter_vma() needs the anon_vma
        // the faults made, and PMD collapse enabled, which it was not while order-0 or 64K filled).
        long hrc = k.Madvise(mm, start, (ulong)scale.RegionBytes, MadviseAdvice.Hugepage);
        if (hrc != 0) throw new InvalidOperationException($"bench setup: MADV_HUGEPAGE failed ({Errno.Name(hrc)})");
        long regionPages = scale.RegionBytes / (long)page;
        // One round covers the whole mm: progress is HPAGE_PMD_NR per range.
        BenchMachine.Apply(k, new Dictionary<string, string>
        {
            ["khugepaged/max_ptes_none"] = "0",
            ["khugepaged/pages_to_scan"] = TouchRegion.N(2 * regionPages + 1024),
        });
        return new PreparedRun(k, () =>
        {
            long before = k.CollapseMetrics.PtesExamined;
            long collapsedBefore = k.KhugepagedPagesCollapsed;
            k.KhugepagedScanRounds(1);
            if (k.KhugepagedPagesCollapsed != collapsedBefore) throw new InvalidOperationException("bench: the khugepaged scan collapsed a range");
            long examined = k.CollapseMetrics.PtesExamined - before;
            if (examined < regionPages - regionPages / 512) throw new InvalidOperationException($"bench: khugepaged examined {examined} PTEs of {regionPages}");
            return examined;
        });
    }
}
