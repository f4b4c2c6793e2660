using System.Diagnostics;

namespace MthpSim.Bench;

/// <summary>One measured run of a pattern in the simulator.</summary>
public readonly record struct SimSample(long Units, double NsPerUnit, double AllocBytesPerUnit, long HostBytes, long ResidentPages)
{
    /// <summary>
    /// Sets the pattern up, times its body, and weighs what is left: the managed heap's growth since
    /// before the setup (after a full collection) plus the frame arrays held outside it
    /// (<c>MemMap.NativeBytes</c>), against the simulated pages in use.
    /// </summary>
    public static SimSample Measure(BenchPattern p)
    {
        long heapBefore = SettledHeap();
        var run = p.Prepare();
        long allocBefore = GC.GetAllocatedBytesForCurrentThread();
        long t0 = Stopwatch.GetTimestamp();
        long units = run.Body();
        long elapsed = Stopwatch.GetTimestamp() - t0;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocBefore;
        if (units <= 0) throw new InvalidOperationException($"bench: {p.Name} did no work");
        long host = 0, resident = 0;
        if (run.Kernel is { } k)
        {
            host = SettledHeap() - heapBefore + k.Map.NativeBytes;
            resident = k.Buddy.TotalPages - k.Buddy.FreePages;
            GC.KeepAlive(run);
        }
        double ns = elapsed * (1e9 / Stopwatch.Frequency);
        return new SimSample(units, ns / units, (double)allocated / units, host, resident);
    }

    /// <summary>
    /// The managed heap after a full collection whose finalizers have all run: a machine dropped by an
    /// earlier run returns its per-frame host memory from its finalizer (munmap), which is then done
    /// before the next run starts rather than on the finalizer thread while its body is timed.
    /// </summary>
    static long SettledHeap()
    {
        GC.GetTotalMemory(forceFullCollection: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
