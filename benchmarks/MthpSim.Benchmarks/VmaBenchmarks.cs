using BenchmarkDotNet.Attributes;
using MthpSim.Bench;
using MthpSim.Core;
using MthpSim.Core.Vma;

namespace MthpSim.Benchmarks;

/// <summary>
/// VMA operations in a process with 100,000 one-page VMAs (alternating protections, so none merge):
/// find_vma(), mmap with a search for a gap, and munmap + mmap at a fixed address in the middle.
/// </summary>
[MemoryDiagnoser]
public class VmaBenchmarks
{
    const int Count = 100_000;
    const int Lookups = 1000;
    Kernel _k = null!;
    MmStruct _mm = null!;
    ulong[] _starts = null!;
    ulong[] _probe = null!;

    [GlobalSetup]
    public void Setup()
    {
        _k = BenchMachine.Create();
        _mm = _k.CreateProcess("bench");
        _starts = new ulong[Count];
        for (int i = 0; i < Count; i++)
        {
            ulong at = _k.MmapBase - (ulong)(i + 1) * 4096;
            long a = _k.Mmap(_mm, at, 4096, i % 2 == 0 ? Prot.Read : Prot.Read | Prot.Write);
            if (a < 0) throw new InvalidOperationException("mmap failed");
            _starts[i] = (ulong)a;
        }
        // Lookups spread over the whole tree in a fixed pseudo-random order.
        _probe = Enumerable.Range(0, Lookups).Select(i => _starts[(int)((i * 7919L) % Count)]).ToArray();
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int FindVma()
    {
        int found = 0;
        foreach (ulong a in _probe) if (_mm.FindVma(a) != null) found++;
        return found;
    }

    /// <summary>mmap(NULL) of one page (the gap search, the insert), then its munmap.</summary>
    [Benchmark]
    public long MmapTopDownAndUnmap()
    {
        long a = _k.Mmap(_mm, null, 4096, Prot.Read);
        return _k.Munmap(_mm, (ulong)a, 4096);
    }

    /// <summary>munmap of a VMA in the middle and mmap of it again at its address (remove and insert).</summary>
    [Benchmark]
    public long UnmapAndMapMiddle()
    {
        ulong at = _starts[Count / 2];
        _k.Munmap(_mm, at, 4096);
        return _k.Mmap(_mm, at, 4096, (Count / 2) % 2 == 0 ? Prot.Read : Prot.Read | Prot.Write);
    }
}
