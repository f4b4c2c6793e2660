using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Folio;
using MthpSim.Scenario.Fuzz;

namespace MthpSim.Tests.Core;

/// <summary>
/// The rmap walks (anon and shmem) stop once they found as many mappings as the folio's mapcounts
/// hold and skip VMAs whose offsets miss the folio: on machines the fuzzer built, each must still
/// find every mapping the page tables hold, in the order a walk over every VMA would.
/// </summary>
public class RmapWalkTests
{
    [Fact]
    public void A_PMD_mapped_folio_shared_by_fork_is_found_in_both_processes()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20, SwapBytes = 64L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", "always"));
        var parent = k.CreateProcess("p");
        Assert.Equal(0x40000000L, k.Mmap(parent, 0x40000000, 2 << 20, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(parent, 0x40000000, 0x40200000, write: true));
        Assert.True(k.PmdMappedAt(parent, 0x40000000));
        var child = k.Fork(parent, "c")!;
        int head = k.ResolvePfn(parent, 0x40000000, out _);
        var walked = k.AnonFolioMappings(head);
        Assert.Equal(1024, walked.Count);
        Assert.Equal([parent, child], walked.Select(m => m.Vma.Mm).Distinct());
    }

    [Theory]
    [InlineData("swap")]
    [InlineData("swap-cgroups")]
    [InlineData("arm64-16K")]
    public void A_walk_finds_every_mapping_the_page_tables_hold(string profileName)
    {
        // The anon walk of an order-0 folio needs the reverse map a machine with swap keeps.
        var profile = profileName switch
        {
            "swap-cgroups" => GeneratorProfile.SimulatorSwapCgroups,
            "arm64-16K" => GeneratorProfile.Arm64Page16K,
            _ => GeneratorProfile.SimulatorSwap,
        };
        long anon = 0, shmem = 0, shared = 0;
        for (ulong seed = 1; seed <= 6; seed++)
        {
            var (_, failure) = Fuzzer.RunEpisode(0x4A9 + seed, 200, profile: profile, closing: (_, session) =>
            {
                var k = session.Kernel;
                ulong page = (ulong)k.Geo.PageSize, pmdSize = (ulong)k.Geo.PmdSize;
                // Every mapping of every folio, from the page tables: by process, then by address.
                var byHead = new Dictionary<int, List<(MthpSim.Core.Vma.Vma, ulong)>>();
                foreach (var mm in k.Processes)
                    foreach (var vma in mm.Vmas)
                        for (ulong a = vma.Start; a < vma.End;)
                        {
                            if (mm.PageTables.Find(k.PmdIndex(a)) == null) { a = Math.Min(vma.End, (a | (pmdSize - 1)) + 1); continue; }
                            int pfn = k.ResolvePfn(mm, a, out var kind);
                            if (kind is MappingKind.PtePage or MappingKind.PmdPage)
                            {
                                int head = k.Map.HeadOf(pfn);
                                if (!byHead.TryGetValue(head, out var list)) byHead[head] = list = [];
                                list.Add((vma, a));
                            }
                            a += page;
                        }
                foreach (var (head, mapped) in byHead.OrderBy(h => h.Key))
                {
                    var walked = k.Map.Kind(head) switch
                    {
                        PageKind.Anon => k.AnonFolioMappings(head),
                        PageKind.Shmem => k.FileFolioMappings(head),
                        _ => null,
                    };
                    if (walked == null) continue;
                    Assert.True(mapped.SequenceEqual(walked),
                        $"folio {head:x} ({k.Map.Kind(head)}, order {k.Map.Order(head)}): the page tables map it at {string.Join(" ", mapped.Select(m => $"{m.Item1.Mm.Name}:{m.Item2:x}"))}, the walk found {string.Join(" ", walked.Select(m => $"{m.Vma.Mm.Name}:{m.Addr:x}"))}");
                    if (k.Map.Kind(head) == PageKind.Anon) anon++; else shmem++;
                    if (mapped.Select(m => m.Item1.Mm).Distinct().Count() > 1) shared++;
                }
                return [];
            });
            Assert.Null(failure);
        }
        Assert.True(anon > 100 && shmem > 0 && shared > 0, $"too little walked: {anon} anon folios, {shmem} shmem folios, {shared} mapped by more than one process");
    }
}
