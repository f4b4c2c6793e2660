using System.Runtime.CompilerServices;
using MthpSim.Core.Folio;
using MthpSim.Core.Host;

namespace MthpSim.Tests.Core;

/// <summary>
/// A machine's per-frame arrays may get the host memory of a machine released before it
/// (<see cref="HostMemoryRecycler"/>): every frame must then read as on fresh memory.
/// </summary>
[Collection(nameof(HostMemoryRecyclerTests))]
public class HostMemoryRecyclerTests
{
    // A size no other test uses, so that no other test takes the block in between.
    const long Frames = (1 << 16) + 3 * 4096 + 17;

    [MethodImpl(MethodImplOptions.NoInlining)]
    static (WeakReference Map, long Length) Dirty()
    {
        var map = new MemMap(Frames);
        map.EnsureCapacity(Frames);
        for (int pfn = 0; pfn < Frames; pfn += 3)
        {
            map.InitFolio(pfn, 0, PageKind.Anon);
            map.AddPteMapcount(pfn, 2);
            map.AddRef(pfn, 5);
            map.SetContent(pfn, 0xdeadbeef);
            map.Set(pfn, PageFlags.Dirty | PageFlags.AnonExclusive);
        }
        return (new WeakReference(map), map.HostBlockLength);
    }

    [Fact]
    public void A_machine_on_recycled_host_memory_reads_zero_everywhere_its_predecessor_wrote()
    {
        // Other tests' machines, finalized meanwhile, would push this one's block out: none run now
        // (the collection below runs alone), and those already released are dropped first.
        for (int i = 0; i < 2; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        HostMemoryRecycler.Drop();
        var (dead, length) = Dirty();
        // the map, then its host block's handle, are finalized: the block is then kept
        for (int i = 0; i < 20 && !HostMemoryRecycler.Holds(length); i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        Assert.False(dead.IsAlive);
        if (OperatingSystem.IsLinux()) Assert.True(HostMemoryRecycler.Holds(length));
        var map = new MemMap(Frames);
        Assert.False(HostMemoryRecycler.Holds(length));
        map.EnsureCapacity(Frames);
        for (int pfn = 0; pfn < Frames; pfn++)
        {
            Assert.Equal(PageKind.FreeTail, map.Kind(pfn));
            Assert.Equal(0, map.Order(pfn));
            Assert.Equal(0, map.PteMapcount(pfn));
            Assert.Equal(0, map.Refcount(pfn));
            Assert.Equal(0u, map.Content(pfn));
            Assert.False(map.Test(pfn, PageFlags.Dirty | PageFlags.AnonExclusive));
        }
    }
}

[CollectionDefinition(nameof(HostMemoryRecyclerTests), DisableParallelization = true)]
public class HostMemoryRecyclerCollection;
