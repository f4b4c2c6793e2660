using System.Buffers.Binary;
using System.Numerics;

namespace MthpSim.Trace.Format;

/// <summary>CRC-32C of a byte range, with the CPU's CRC instructions where it has them.</summary>
static class Crc32C
{
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 8 <= data.Length; i += 8) crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++) crc = BitOperations.Crc32C(crc, data[i]);
        return crc;
    }

    public static uint Of(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default) => ~Append(Append(~0u, a), b);
}
