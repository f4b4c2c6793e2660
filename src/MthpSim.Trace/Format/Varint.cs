using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.Intrinsics.X86;

namespace MthpSim.Trace.Format;

/// <summary>LEB128 integers (7 bits a byte, low first), zigzag for signed values.</summary>
static class Varint
{
    /// <summary>At most this many bytes per value.</summary>
    public const int MaxBytes = 10;

    public static void Write(Span<byte> s, ref int pos, ulong v)
    {
        while (v >= 0x80) { s[pos++] = (byte)(v | 0x80); v >>= 7; }
        s[pos++] = (byte)v;
    }

    public static void WriteSigned(Span<byte> s, ref int pos, long v) => Write(s, ref pos, (ulong)((v << 1) ^ (v >> 63)));

    /// <summary>Reads at <paramref name="pos"/>; false when the bytes end or the value runs past 64 bits.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> s, ref int pos, out ulong v)
    {
        // most values (kinds, deltas, flags) are one byte
        if ((uint)pos < (uint)s.Length && s[pos] < 0x80) { v = s[pos++]; return true; }
        return TryReadLong(s, ref pos, out v);
    }

    static bool TryReadLong(ReadOnlySpan<byte> s, ref int pos, out ulong v)
    {
        // A value of up to 8 bytes with 8 bytes left to read: its 7-bit groups gathered in one step
        // (an address is 6 or 7 bytes)
        if (Bmi2.X64.IsSupported && pos >= 0 && s.Length - pos >= 8)
        {
            ulong word = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(pos, 8));
            ulong stops = ~word & 0x8080808080808080UL;
            if (stops != 0)
            {
                int bytes = (BitOperations.TrailingZeroCount(stops) >> 3) + 1;
                ulong groups = bytes == 8 ? 0x7F7F7F7F7F7F7F7FUL : 0x7F7F7F7F7F7F7F7FUL & ((1UL << (bytes * 8)) - 1);
                v = Bmi2.X64.ParallelBitExtract(word, groups);
                pos += bytes;
                return true;
            }
        }
        ulong value = 0;
        int p = pos;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if ((uint)p >= (uint)s.Length) break;
            ulong b = s[p++];
            value |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                (pos, v) = (p, value);
                return shift < 63 || b <= 1;
            }
        }
        v = value;
        return false;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool TryReadSigned(ReadOnlySpan<byte> s, ref int pos, out long v)
    {
        bool ok = TryRead(s, ref pos, out ulong u);
        v = Unzigzag(u);
        return ok;
    }

    public static long Unzigzag(ulong u) => (long)(u >> 1) ^ -(long)(u & 1);
}
