using MthpSim.Bench;
using MthpSim.Core;
using MthpSim.Core.Vma;

namespace MthpSim.Benchmarks;

/// <summary>A fresh machine whose anonymous faults use one folio size, with one mapped region (the suite's setup, smaller).</summary>
internal sealed class Region
{
    public const long Bytes = 64L << 20;
    public const int Pages = (int)(Bytes / 4096);

    public Kernel Kernel { get; }
    public MmStruct Mm { get; }
    public ulong Start { get; }

    public Region(int order, bool written)
    {
        Kernel = BenchMachine.Create(BenchMachine.SizeSettings(order));
        Mm = Kernel.CreateProcess("bench");
        Start = BenchMachine.MapRegion(Kernel, Mm, Bytes);
        if (written) Write();
    }

    public void Write() => BenchMachine.Touch(Kernel, Mm, Start, Bytes, write: true);
    public void Read() => BenchMachine.Touch(Kernel, Mm, Start, Bytes, write: false);

    /// <summary>Orders by the suite's labels: 4K, 64K, 2M.</summary>
    public static int Order(string size) => BenchMachine.AllSizes.First(o => BenchMachine.Label(o) == size);
}
