using MthpSim.Core.Proc;

namespace MthpSim.Tests.Core;

/// <summary>The shared thpmaps calculator against tools/mm/thpmaps' rules (x86-64 geometry: 4K pages, PMD order 9).</summary>
public class ThpmapsCalculatorTests
{
    const int PmdOrder = 9;
    const long PageKb = 4;

    /// <summary>A fully mapped folio of 2^order pages at vfn/pfn, anonymous unless said otherwise.</summary>
    static IEnumerable<ThpPage> Folio(long vfn, long pfn, int order, bool anon = true) =>
        Enumerable.Range(0, 1 << order).Select(i => new ThpPage(vfn + i, pfn + i, anon, i == 0, false));

    static SortedDictionary<string, long> Rollup(params ThpmapsVma[] vmas) => ThpmapsCalculator.Compute(vmas, PmdOrder, PageKb);

    [Fact]
    public void A_prot_none_vma_counts_nothing()
    {
        var pages = Folio(0x40000, 0x1000, 4).ToList();
        var keys = Rollup(new ThpmapsVma(Accessible: false, RssPositive: true, pages, 0));
        Assert.All(keys.Values, v => Assert.Equal(0, v));
        Assert.Empty(ThpmapsCalculator.ComputeVma(new ThpmapsVma(false, true, pages, 0), PmdOrder, PageKb));
        Assert.Equal(64, Rollup(new ThpmapsVma(true, true, pages, 0))["anon-thp-pte-aligned-64kB"]);
    }

    [Fact]
    public void A_vma_without_rss_counts_nothing_and_every_key_is_still_reported()
    {
        var keys = Rollup(new ThpmapsVma(true, RssPositive: false, Folio(0x40000, 0x1000, 4).ToList(), 0));
        Assert.All(keys.Values, v => Assert.Equal(0, v));
        Assert.Equal(ThpmapsCalculator.Keys(PmdOrder, PageKb).Keys, keys.Keys);
        Assert.Contains("file-cont-pmd-aligned-2048kB", keys.Keys);
        Assert.DoesNotContain("anon-thp-pte-aligned-8kB", keys.Keys);   // the tool starts its THP sizes at order 2
    }

    /// <summary>PMD-mapped memory comes out of the PTE counts of each VMA, clamped at 0 there (smaps and pagemap are read at different times).</summary>
    [Fact]
    public void Pmd_mapped_memory_is_taken_out_per_vma_and_clamped_there()
    {
        var pmdMapped = new ThpmapsVma(true, true, [], AnonPmdPages: 512);    // its folio went away before pagemap was read
        var pteMapped = new ThpmapsVma(true, true, Folio(0x40200, 0x2000, 9).ToList(), 0);
        var keys = Rollup(pmdMapped, pteMapped);
        Assert.Equal(2048, keys["anon-thp-pmd-aligned-2048kB"]);
        Assert.Equal(2048, keys["anon-thp-pte-aligned-2048kB"]);
        Assert.Equal(2048, keys["anon-cont-pte-aligned-64kB"]);
        Assert.Equal(2048, keys["anon-cont-pmd-aligned-64kB"]);
    }

    [Fact]
    public void File_pmd_mappings_are_taken_out_of_the_file_pte_counts()
    {
        var vma = new ThpmapsVma(true, true, Folio(0x40000, 0x2000, 9, anon: false).ToList(), 0, FilePmdPages: 512);
        var keys = Rollup(vma);
        Assert.Equal(2048, keys["file-thp-pmd-aligned-2048kB"]);
        Assert.Equal(0, keys["file-thp-pte-aligned-2048kB"]);
        Assert.Equal(2048, keys["file-cont-pmd-aligned-16kB"]);
        Assert.Equal(0, keys["file-cont-pte-aligned-16kB"]);
        Assert.Equal(0, keys["anon-thp-pmd-aligned-2048kB"]);
    }

    /// <summary>
    /// A run ending inside a folio: the tool types the cut folio's pages by the page before its head
    /// (thp_parse() looks at index_end - 1 after moving index_end back to the head).
    /// </summary>
    [Fact]
    public void A_folio_cut_at_the_end_of_a_run_is_typed_by_the_page_before_its_head()
    {
        var file = Folio(0x40000, 0x1000, 4, anon: false);
        var cut = Folio(0x40010, 0x1010, 4).Take(8).Select((p, i) => i == 7 ? p with { NextIsTail = true } : p);
        var keys = Rollup(new ThpmapsVma(true, true, file.Concat(cut).ToList(), 0));
        Assert.Equal(64, keys["file-thp-pte-aligned-64kB"]);
        Assert.Equal(32, keys["file-thp-pte-partial"]);
        Assert.Equal(0, keys["anon-thp-pte-partial"]);
    }

    /// <summary>When that head is the VMA's first THP page, the page before it is numpy's index -1: the VMA's last THP page.</summary>
    [Fact]
    public void A_cut_folio_heading_the_vma_is_typed_by_its_last_thp_page()
    {
        var cut = Folio(0x40000, 0x1000, 4).Take(8).Select((p, i) => i == 7 ? p with { NextIsTail = true } : p);
        var file = Folio(0x40020, 0x3000, 4, anon: false);
        var keys = Rollup(new ThpmapsVma(true, true, cut.Concat(file).ToList(), 0));
        Assert.Equal(32, keys["file-thp-pte-partial"]);
        Assert.Equal(0, keys["anon-thp-pte-partial"]);
        Assert.Equal(64, keys["file-thp-pte-aligned-64kB"]);
    }

    [Fact]
    public void Folios_are_aligned_by_their_virtual_address_and_blocks_need_the_same_offset_both_ways()
    {
        var pages = Folio(0x40002, 0x1000, 4).Concat(Folio(0x40020, 0x5000, 3)).ToList();
        var keys = Rollup(new ThpmapsVma(true, true, pages, 0));
        Assert.Equal(64, keys["anon-thp-pte-unaligned-64kB"]);
        Assert.Equal(32, keys["anon-thp-pte-aligned-32kB"]);
        // 16K blocks: the first folio's offset is 2 virtually and 0 physically, so only the second counts.
        Assert.Equal(32, keys["anon-cont-pte-aligned-16kB"]);
    }
}
