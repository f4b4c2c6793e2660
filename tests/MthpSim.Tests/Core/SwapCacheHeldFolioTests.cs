using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>
/// Reclaim of an anonymous folio that somebody else still holds, as a copy-on-write fault holds the
/// folio it copies while it allocates: try_to_unmap() takes the mappings down to swap entries, but
/// pageout() does not write it (is_page_cache_freeable()) and __remove_mapping() cannot free it, so
/// it stays in the swap cache for the next fault to find. Found by `fuzz --seed 20261208` (arm64, 64K
/// pages): the model wrote and dropped it, the fault's copy backed off, read it back, was reclaimed
/// again, and the populate made no progress.
/// </summary>
public class SwapCacheHeldFolioTests
{
    [Fact]
    public void A_held_folio_is_unmapped_but_neither_written_nor_dropped_from_the_swap_cache()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20, SwapBytes = 64L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", "never"));
        var mm = k.CreateProcess("p");
        const ulong a = 0x40000000;
        k.Mmap(mm, a, 1 << 20, Prot.Read | Prot.Write);
        Assert.Equal(0, k.Access(mm, a, a + 4096, write: true));
        int pfn = k.ResolvePfn(mm, a, out _);
        k.Map.AddRef(pfn, 1);   // held, as wp_page_copy() holds the folio it copies

        Assert.Equal(0, k.Madvise(mm, a, 4096, MadviseAdvice.Pageout));
        Assert.Equal(-1, k.ResolvePfn(mm, a, out _));   // unmapped: a swap entry now
        Assert.Equal(0, k.Vmstat("pswpout"));
        Assert.True(k.InSwapCache(pfn));

        k.FolioPut(pfn);   // the holder lets go; the swap cache still has it
        Assert.True(k.InSwapCache(pfn));
        long majBefore = mm.MajFlt;
        Assert.Equal(0, k.Access(mm, a, a + 4096, write: false));
        Assert.Equal(majBefore, mm.MajFlt);   // found in the swap cache: a minor fault, nothing read
        Assert.Equal(pfn, k.ResolvePfn(mm, a, out _));
        Assert.Equal(0, k.Vmstat("pswpin"));
    }
}
