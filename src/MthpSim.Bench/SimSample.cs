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
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        // The last run's machine is finalized now, not while this one runs: its per-frame memory goes
        // back to the recycler first, as in any run after the first of a process.
        GC.WaitForPendingFinalizers();
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
            // The heap is the process's: garbage of other threads (a test run's) collected meanwhile can
            // make its growth negative, which the pattern's own state cannot be.
            host = Math.Max(0, GC.GetTotalMemory(forceFullCollection: true) - heapBefore) + k.Map.NativeBytes;
            resident = k.Buddy.TotalPages - k.Buddy.FreePages;
            GC.KeepAlive(run);
        }
        double ns = elapsed * (1e9 / Stopwatch.Frequency);
        return new SimSample(units, ns / units, (double)allocated / units, host, resident);
    }
}
