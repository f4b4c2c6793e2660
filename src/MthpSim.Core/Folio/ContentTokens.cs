using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MthpSim.Core.Folio;

/// <summary>Content tokens for a run of pages written in a row: consecutive tokens, written a vector at a time.</summary>
internal static class ContentTokens
{
    /// <summary>Sets dst[i] = first + i.</summary>
    public static void FillSequence(Span<uint> dst, uint first)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && dst.Length >= Vector<uint>.Count)
        {
            var step = new Vector<uint>((uint)Vector<uint>.Count);
            var v = new Vector<uint>(first) + Vector<uint>.Indices;
            ref uint d = ref MemoryMarshal.GetReference(dst);
            for (; i <= dst.Length - Vector<uint>.Count; i += Vector<uint>.Count)
            {
                Unsafe.WriteUnaligned(ref Unsafe.As<uint, byte>(ref Unsafe.Add(ref d, i)), v);
                v += step;
            }
        }
        for (; i < dst.Length; i++) dst[i] = first + (uint)i;
    }
}
