using MthpSim.Trace.Format;
using Xunit;

namespace MthpSim.Tests.Trace;

public class TraceFormatTests
{
    static TraceHeader Header()
    {
        var h = new TraceHeader { ["arch"] = "x86_64", ["page"] = "4096", ["clock"] = "CLOCK_MONOTONIC" };
        h["command"] = "python3 -c pass";
        return h;
    }

    internal static List<TraceEvent> Sample(int faults)
    {
        var list = new List<TraceEvent>
        {
            new() { Kind = TraceEventKind.Exec, Time = 1_000, Pid = 4044, Tid = 4044, Arg2 = 4044, Path = "/usr/bin/python3.11" },
            new() { Kind = TraceEventKind.File, Time = 1_000, Pid = 4044, Tid = 4044, Len = 6_000_000, Path = "/usr/bin/python3.11" },
            new() { Kind = TraceEventKind.KernelMap, Time = 1_001, Pid = 4044, Tid = 4044, Addr = 0x7ffffffde000, Len = 0x21000, Arg2 = 3, Arg3 = 2, Arg5 = 0x7ffffffde, Path = "[stack]" },
            new() { Kind = TraceEventKind.Mmap, Time = 2_000, Pid = 4044, Tid = 4044, Addr = 0, Len = 0x4000000, Arg2 = 3, Arg3 = 0x22, Arg4 = unchecked((ulong)-1L), Ret = 0x7ffff3800000, Dur = 7087 },
            new() { Kind = TraceEventKind.Brk, Time = 2_100, Pid = 4044, Tid = 4044, Addr = 0, Ret = 0x256d000, Dur = 1448 },
            new() { Kind = TraceEventKind.Munmap, Time = 2_200, Pid = 4044, Tid = 4044, Addr = 0x7ffff3800000, Len = 0x1000, Ret = -22, Dur = 3 },
            new() { Kind = TraceEventKind.Task, Time = 2_300, Pid = 4044, Tid = 4044, Arg2 = 4045, Arg3 = 0x4100 },
        };
        for (int i = 0; i < faults; i++)
            list.Add(TraceEvent.Fault(3_000 + i * 37L, 4044, 4044 + (i % 3), 0x7ffff3800000UL + (ulong)i * 4096,
                i % 5 == 0 ? FaultFlags.Read : FaultFlags.Write | (i % 7 == 0 ? FaultFlags.Kernel : 0)));
        list.Add(new() { Kind = TraceEventKind.Exit, Time = 9_999_999, Pid = 4044, Tid = 4044, Arg2 = 1 });
        return list;
    }

    internal static byte[] Write(IEnumerable<TraceEvent> events, bool complete = true)
    {
        var ms = new MemoryStream();
        using (var w = new TraceWriter(ms, Header()))
        {
            foreach (var e in events) w.Write(e);
            if (complete) w.Complete();
        }
        return ms.ToArray();
    }

    internal static List<TraceEvent> ReadAll(byte[] bytes, out TraceHeader header)
    {
        using var r = new TraceReader(new MemoryStream(bytes), "t.mtrace");
        header = r.Header;
        var list = new List<TraceEvent>();
        while (r.Read(out var e)) list.Add(e);
        return list;
    }

    /// <summary>The raw length of each block, from the file's block headers (docs/trace-format.md).</summary>
    static List<int> BlockRawLengths(byte[] bytes)
    {
        int pos = 16 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)) + 4;
        var raw = new List<int>();
        while (true)
        {
            int packed = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos));
            if (packed == 0) return raw;
            raw.Add((int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + 4)));
            pos += 20 + packed;
        }
    }

    [Fact]
    public void The_first_block_is_4_KiB_and_each_next_twice_as_large_up_to_256_KiB()
    {
        // a replay waits for the first block's decompression before its first record
        var raw = BlockRawLengths(Write(Sample(300_000)));
        Assert.InRange(raw[0], 4 * 1024, 4 * 1024 + 64);
        for (int i = 1; i < raw.Count - 1; i++)
            Assert.InRange(raw[i], Math.Min(4 * 1024 << i, 256 * 1024), Math.Min(4 * 1024 << i, 256 * 1024) + 64);
        Assert.InRange(raw.Take(raw.Count - 1).Max(), 256 * 1024, 256 * 1024 + 64);
    }

    [Fact]
    public void Every_record_and_the_header_read_back_as_written_across_many_blocks()
    {
        var events = Sample(200_000);
        byte[] bytes = Write(events);
        var back = ReadAll(bytes, out var header);
        Assert.Equal(events, back);
        Assert.Equal(Header().Properties, header.Properties);
        Assert.Equal(4096, header.PageSize);
        Assert.True(bytes.Length < events.Count * 4, $"{bytes.Length} bytes for {events.Count} records: not compressed");
    }

    [Fact]
    public void A_trace_cut_anywhere_is_refused_as_truncated_or_damaged()
    {
        byte[] bytes = Write(Sample(3_000));
        var cuts = Enumerable.Range(0, 64).Select(i => (long)i * bytes.Length / 64).Concat([bytes.Length - 1L, bytes.Length - 20L]);
        foreach (long cut in cuts)
        {
            var ex = Assert.Throws<TraceFormatException>(() => ReadAll(bytes[..(int)cut], out _));
            Assert.InRange(ex.Offset, 0, cut);
        }
    }

    [Fact]
    public void A_writer_that_never_completed_leaves_a_file_the_reader_refuses()
    {
        byte[] bytes = Write(Sample(10), complete: false);
        var ex = Assert.Throws<TraceFormatException>(() => ReadAll(bytes, out _));
        Assert.Contains("without its end block", ex.Message);
    }

    [Fact]
    public void A_flipped_bit_in_a_block_is_refused_with_the_blocks_offset()
    {
        byte[] good = Write(Sample(50_000));
        int headerEnd = TraceFile.PreambleBytes + Header().Encode().Length + 4;
        foreach (int at in new[] { headerEnd + 2, headerEnd + 30, good.Length / 2, good.Length - 10 })
        {
            byte[] bad = (byte[])good.Clone();
            bad[at] ^= 0x10;
            var ex = Assert.Throws<TraceFormatException>(() => ReadAll(bad, out _));
            Assert.InRange(ex.Offset, headerEnd, at);
        }
    }

    [Fact]
    public void Not_a_trace_and_another_version_are_refused_at_their_bytes()
    {
        var ex = Assert.Throws<TraceFormatException>(() => ReadAll("# mmtrace v1 text\n"u8.ToArray(), out _));
        Assert.Equal(0, ex.Offset);
        Assert.Contains("not an mthpsim trace", ex.Message);

        byte[] v3 = Write(Sample(1));
        v3[8] = 3;
        ex = Assert.Throws<TraceFormatException>(() => ReadAll(v3, out _));
        Assert.Equal(8, ex.Offset);
        Assert.Contains("version 3", ex.Message);
        Assert.Contains("versions 1 to 2", ex.Message);
    }

    [Fact]
    public void A_version_1_trace_reads_as_the_same_records_in_version_2()
    {
        // the shipped sqlite3 trace as it was recorded in version 1 (pid and addresses whole), and
        // its records written again in version 2
        var v1 = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Trace", "Fixtures", "sqlite3-v1.mtrace"));
        Assert.Equal(1, v1[8]);
        var old = ReadAll(v1, out var header);
        Assert.Equal(2260, old.Count);
        var ms = new MemoryStream();
        using (var w = new TraceWriter(ms, header))
        {
            foreach (var e in old) w.Write(e);
            w.Complete();
        }
        byte[] v2 = ms.ToArray();
        Assert.Equal(2, v2[8]);
        Assert.Equal(old, ReadAll(v2, out var header2));
        Assert.Equal(header.Encode(), header2.Encode());
        Assert.True(v2.Length < v1.Length * 3 / 4, $"{v2.Length} bytes against {v1.Length}");
    }

    [Fact]
    public void A_run_of_faults_costs_a_few_bytes_a_record()
    {
        // version 2 gives the pid and a fault's address as deltas: a fault a page after the last one
        // of the block is kind, time, pid, tid, address and access in a byte or two each
        var events = Sample(20_000);
        var raw = BlockRawLengths(Write(events));
        double perRecord = (double)raw.Sum() / events.Count;
        Assert.InRange(perRecord, 6, 8);
        Assert.Equal(events, ReadAll(Write(events), out _));
    }

    [Fact]
    public void The_text_form_names_each_field()
    {
        var e = Sample(0)[3];
        Assert.Equal("2000 4044 4044 MMAP addr=0x0 len=0x4000000 prot=0x3 flags=0x22 fd=-1 off=0x0 path= ret=0x7ffff3800000 dur=7087", e.ToString());
        Assert.Equal("3000 4044 4044 FAULT addr=0x7ffff3800000 acc=R mode=U pres=0", Sample(1)[7].ToString());
    }
}
