using MthpSim.Core;
using MthpSim.Core.Vma;
using MthpSim.Scenario.Fuzz;

namespace MthpSim.Tests.Core;

/// <summary>
/// <see cref="Kernel.ContentRun"/> resolves runs of holes and file pages a page cache block at a
/// time; it must read exactly what <see cref="Kernel.ContentAt"/> reads page by page, on machines
/// the fuzzer built (shmem files and tmpfs, swap, PMD mappings, holes between VMAs).
/// </summary>
public class ContentRunTests
{
    [Theory]
    [InlineData("simulator")]
    [InlineData("swap")]
    [InlineData("arm64-64K")]
    public void A_run_reads_what_each_page_reads(string profileName)
    {
        var profile = profileName switch
        {
            "swap" => GeneratorProfile.SimulatorSwap,
            "arm64-64K" => GeneratorProfile.Arm64Page64K,
            _ => GeneratorProfile.Simulator,
        };
        long pages = 0, fileContent = 0;
        for (ulong seed = 1; seed <= 8; seed++)
        {
            var (_, failure) = Fuzzer.RunEpisode(0xC047E47 + seed, 150, profile: profile, closing: (_, session) =>
            {
                var k = session.Kernel;
                ulong page = (ulong)k.Geo.PageSize;
                foreach (var mm in k.Processes)
                {
                    var vmas = mm.Vmas.ToList();
                    if (vmas.Count == 0) continue;
                    // From a page below the lowest VMA to a page past the highest, holes between them included.
                    ulong start = vmas[0].Start - page, end = Math.Min(vmas[^1].End + page, start + (1UL << 18) * page);
                    var run = new uint[(end - start) / page];
                    k.ContentRun(mm, start, run);
                    for (int i = 0; i < run.Length; i++)
                    {
                        ulong addr = start + (ulong)i * page;
                        Assert.True(k.ContentAt(mm, addr) == run[i], $"{mm.Name} at {addr:x}: ContentRun read {run[i]}, ContentAt {k.ContentAt(mm, addr)}");
                        if (run[i] != 0 && mm.FindVma(addr) is { File: not null }) fileContent++;
                    }
                    pages += run.Length;
                }
                return [];
            });
            Assert.Null(failure);
        }
        Assert.True(pages > 10_000, $"only {pages} pages compared");
        Assert.True(fileContent > 0, "no page read a file's content: the file path went untested");
    }
}
