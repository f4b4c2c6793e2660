using MthpSim.Core.PageTable;

namespace MthpSim.Core;

public sealed partial class Kernel
{
    /// <summary>
    /// models folio_pte_batch() without flag conditions: how many entries from <paramref name="i"/>
    /// (below <paramref name="end"/>; the first counted unchecked) map pages of one folio one after
    /// another from <paramref name="pfn"/>, up to the folio's end <paramref name="folioEnd"/>.
    /// </summary>
    static int FolioPteBatch(ulong[] ptes, int i, int end, int pfn, int folioEnd) =>
        1 + Pte.ConsecutiveNormal(ptes.AsSpan(i + 1, Math.Min(end - i, folioEnd - pfn) - 1), pfn + 1);
}
