using MthpSim.Trace.Format;
using Xunit;

namespace MthpSim.Tests.Trace;

public class TraceReadAheadTests
{
    static List<TraceEvent> ReadAhead(byte[] bytes, int max = int.MaxValue)
    {
        using var r = new TraceReader(new MemoryStream(bytes), "t.mtrace");
        using var ahead = new TraceReadAhead(r);
        var list = new List<TraceEvent>();
        while (list.Count < max && ahead.Read(out var e)) list.Add(e);
        return list;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(56)]     // 64 records: the first batch exactly (batches of 64, 128, ... 1,024)
    [InlineData(951)]
    [InlineData(952)]    // 960 records: four whole batches, then an empty one
    [InlineData(953)]
    [InlineData(1976)]
    [InlineData(100_000)]
    public void Gives_every_record_in_the_files_order(int faults)
    {
        byte[] bytes = TraceFormatTests.Write(TraceFormatTests.Sample(faults));
        Assert.Equal(TraceFormatTests.ReadAll(bytes, out _), ReadAhead(bytes));
    }

    [Fact]
    public void Batches_read_in_place_give_every_record_in_order_and_then_an_empty_span()
    {
        byte[] bytes = TraceFormatTests.Write(TraceFormatTests.Sample(5_000));
        using var r = new TraceReader(new MemoryStream(bytes), "t.mtrace");
        using var ahead = new TraceReadAhead(r);
        var got = new List<TraceEvent>();
        for (var batch = ahead.NextBatch(); !batch.IsEmpty; batch = ahead.NextBatch())
            foreach (ref readonly var e in batch) got.Add(e);
        Assert.Equal(TraceFormatTests.ReadAll(bytes, out _), got);
        Assert.True(ahead.NextBatch().IsEmpty);
    }

    [Fact]
    public void A_damaged_block_throws_after_the_records_before_it_as_the_reader_does()
    {
        byte[] bytes = TraceFormatTests.Write(TraceFormatTests.Sample(300_000));
        bytes[bytes.Length * 2 / 3] ^= 0x10;
        var plain = new List<TraceEvent>();
        var expected = Assert.Throws<TraceFormatException>(() =>
        {
            using var r = new TraceReader(new MemoryStream(bytes), "t.mtrace");
            while (r.Read(out var e)) plain.Add(e);
        });
        Assert.NotEmpty(plain);
        var got = new List<TraceEvent>();
        var ex = Assert.Throws<TraceFormatException>(() =>
        {
            using var r = new TraceReader(new MemoryStream(bytes), "t.mtrace");
            using var ahead = new TraceReadAhead(r);
            while (ahead.Read(out var e)) got.Add(e);
        });
        Assert.Equal(plain, got);
        Assert.Equal(expected.Message, ex.Message);
        Assert.Equal(expected.Offset, ex.Offset);
    }

    [Fact]
    public void Stopping_early_ends_the_reading_thread()
    {
        byte[] bytes = TraceFormatTests.Write(TraceFormatTests.Sample(300_000));
        var first = ReadAhead(bytes, max: 10);   // returns only once Dispose has joined the thread
        Assert.Equal(TraceFormatTests.ReadAll(bytes, out _).Take(10), first);
    }

    [Fact]
    public void Reading_one_trace_after_another_on_a_thread_reuses_its_reading_thread()
    {
        byte[] bytes = TraceFormatTests.Write(TraceFormatTests.Sample(2_000));
        var expected = TraceFormatTests.ReadAll(bytes, out _);
        (List<TraceEvent>, int) ReadWhole()
        {
            using var r = new TraceReader(new MemoryStream(bytes), "t.mtrace");
            using var ahead = new TraceReadAhead(r);
            var got = new List<TraceEvent>();
            while (ahead.Read(out var e)) got.Add(e);
            return (got, ahead.ProducerThreadId);
        }
        var (first, thread) = ReadWhole();
        var (second, again) = ReadWhole();
        Assert.Equal(expected, first);
        Assert.Equal(expected, second);
        Assert.Equal(thread, again);

        // two at once on one thread: each reads on a thread of its own, and both give every record
        using var r1 = new TraceReader(new MemoryStream(bytes), "t.mtrace");
        using var r2 = new TraceReader(new MemoryStream(bytes), "t.mtrace");
        using var a1 = new TraceReadAhead(r1);
        using var a2 = new TraceReadAhead(r2);
        Assert.NotEqual(a1.ProducerThreadId, a2.ProducerThreadId);
        var got1 = new List<TraceEvent>();
        var got2 = new List<TraceEvent>();
        while (a1.Read(out var e)) got1.Add(e);
        while (a2.Read(out var e)) got2.Add(e);
        Assert.Equal(expected, got1);
        Assert.Equal(expected, got2);
    }

    /// <summary>
    /// Until the reading thread runs, the consumer decodes batches itself; the thread then takes the
    /// file over where the consumer stopped, and every record comes once, in the file's order.
    /// </summary>
    [Fact]
    public void The_reading_thread_takes_over_where_the_consumer_stopped_decoding()
    {
        byte[] bytes = TraceFormatTests.Write(TraceFormatTests.Sample(5_000));
        using var gate = new ManualResetEventSlim(false);
        using var r = new TraceReader(new MemoryStream(bytes), "t.mtrace");
        using var ahead = new TraceReadAhead(r, gate);
        var got = new List<TraceEvent>();
        for (int i = 0; i < 3; i++)
            foreach (ref readonly var e in ahead.NextBatch()) got.Add(e);
        Assert.Equal(3, ahead.BatchesDecodedHere);
        gate.Set();
        Assert.True(SpinWait.SpinUntil(() => ahead.ReadingThreadTookOver, TimeSpan.FromSeconds(30)), "the reading thread never took the file over");
        while (ahead.Read(out var e)) got.Add(e);
        Assert.Equal(TraceFormatTests.ReadAll(bytes, out _), got);
        Assert.Equal(3, ahead.BatchesDecodedHere);   // none after the handover
    }

    /// <summary>A damaged block met by the consumer before the reading thread runs: the same error after the same records.</summary>
    [Fact]
    public void A_damaged_block_the_consumer_decodes_itself_throws_after_the_records_before_it()
    {
        byte[] bytes = TraceFormatTests.Write(TraceFormatTests.Sample(300_000));
        bytes[bytes.Length / 3] ^= 0x10;
        var plain = new List<TraceEvent>();
        var expected = Assert.Throws<TraceFormatException>(() =>
        {
            using var r = new TraceReader(new MemoryStream(bytes), "t.mtrace");
            while (r.Read(out var e)) plain.Add(e);
        });
        var got = new List<TraceEvent>();
        using var gate = new ManualResetEventSlim(false);   // never set: the consumer reads the whole way
        var ex = Assert.Throws<TraceFormatException>(() =>
        {
            using var r = new TraceReader(new MemoryStream(bytes), "t.mtrace");
            using var ahead = new TraceReadAhead(r, gate);
            while (ahead.Read(out var e)) got.Add(e);
        });
        Assert.Equal(plain, got);
        Assert.Equal(expected.Offset, ex.Offset);
    }
}
