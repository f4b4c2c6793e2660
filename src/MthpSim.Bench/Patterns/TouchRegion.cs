using MthpSim.Core;
using MthpSim.Core.Vma;

namespace MthpSim.Bench.Patterns;

/// <summary>
/// The common setup of the touch patterns: a fresh machine whose anonymous faults use one folio
/// size, one process and one PMD-aligned region of the scale's size (optionally written once already).
/// </summary>
internal sealed class TouchRegion
{
    public Kernel Kernel { get; }
    public MmStruct Mm { get; }
    public ulong Start { get; }
    public long Bytes { get; }
    public long Pages => Bytes / BenchMachine.PageSize;

    public TouchRegion(BenchScale scale, int order, bool written)
    {
        Kernel = BenchMachine.Create(BenchMachine.SizeSettings(order));
        Mm = Kernel.CreateProcess("bench");
        Bytes = scale.RegionBytes;
        Start = BenchMachine.MapRegion(Kernel, Mm, Bytes);
        if (written) BenchMachine.Touch(Kernel, Mm, Start, Bytes, write: true);
    }

    /// <summary>The live counterpart: <c>mthp_bench touch LEN STRIDE WRITE PRETOUCH</c> under the same size settings.</summary>
    public static LiveBenchSpec Live(BenchScale scale, int order, long stride, bool write, bool pretouch) =>
        new(BenchMachine.SizeSettings(order), ["touch", N(scale.RegionBytes), N(stride), write ? "1" : "0", pretouch ? "1" : "0"]);

    internal static string N(long v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
