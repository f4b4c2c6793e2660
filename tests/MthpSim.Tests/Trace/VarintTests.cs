using MthpSim.Trace.Format;

namespace MthpSim.Tests.Trace;

/// <summary>LEB128 values of every length, read at every distance from the end of their bytes (the reader gathers up to 8 bytes at once where 8 are left).</summary>
public class VarintTests
{
    static IEnumerable<ulong> Values()
    {
        for (int bits = 0; bits <= 64; bits++)
        {
            ulong top = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
            yield return top;
            yield return top >> 1 | (bits > 0 ? 1UL << (bits - 1) : 0);
            yield return 0x5A5A5A5A5A5A5A5AUL & top;
        }
    }

    [Fact]
    public void Every_length_reads_back_at_every_distance_from_the_end()
    {
        foreach (ulong value in Values())
            for (int slack = 0; slack <= 10; slack++)
            {
                var buf = new byte[Varint.MaxBytes + slack];
                int end = 0;
                Varint.Write(buf, ref end, value);
                // bytes after the value that look like more of it must not be read
                for (int i = end; i < buf.Length; i++) buf[i] = 0xFF;
                int pos = 0;
                Assert.True(Varint.TryRead(buf.AsSpan(0, end + slack), ref pos, out ulong got), $"{value:x} with {slack} bytes after it");
                Assert.Equal(value, got);
                Assert.Equal(end, pos);
            }
    }

    [Fact]
    public void A_value_cut_short_or_past_64_bits_is_refused()
    {
        var buf = new byte[16];
        int end = 0;
        Varint.Write(buf, ref end, 1UL << 50);
        int pos = 0;
        Assert.False(Varint.TryRead(buf.AsSpan(0, end - 1), ref pos, out _));
        byte[] tooLong = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0, 0, 0];
        pos = 0;
        Assert.False(Varint.TryRead(tooLong, ref pos, out _));
    }
}
