using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace MthpSim.Trace.Format;

/// <summary>
/// Decompresses and decodes a trace on a thread of its own, a few batches ahead of the one consuming
/// it, so that a replay's thread spends its time on the model. Records come out in the file's order;
/// an error the reader meets is thrown at the record where it met it, after every record before it,
/// exactly as reading on one thread would. Host memory is a fixed number of batches.
/// </summary>
/// <remarks>
/// Until the reading thread is running, the consumer decodes small batches itself: waking an idle
/// thread took 40 µs on this machine's VM, an eighth of a short trace's replay (sqlite3's). The
/// thread takes the file over at the batch boundary it finds, and from then on only it reads.
/// </remarks>
public sealed class TraceReadAhead : IDisposable
{
    const int BatchRecords = 1024;
    /// <summary>The first batches are small, so the consumer starts at once; they double up to <see cref="BatchRecords"/>.</summary>
    const int FirstBatchRecords = 64;
    /// <summary>
    /// Records are decoded at about 30-50 ns each, a run of faults replays in less: with room for 16K
    /// records (1.6 MB) the reader gets far enough ahead during the slower stretches that the
    /// replay seldom waits for it (python's replay: 90 -> 73 ns a record).
    /// </summary>
    const int BatchesAhead = 16;

    // The batches' arrays (about 100 KB each, on the large object heap) come from a pool of their own
    // that keeps every batch of two read-aheads (the shared pool keeps a few per core): a fresh set
    // per replay was zeroed and faulted in by the host each time, a fixed cost that was a tenth of a
    // short trace's replay. The pool holds host memory only, never a record.
    static readonly ArrayPool<TraceEvent> Pool = ArrayPool<TraceEvent>.Create(BatchRecords, 2 * (BatchesAhead + 1));

    sealed class Batch(int capacity)
    {
        public readonly TraceEvent[] Events = Pool.Rent(capacity);
        public int Count;
        /// <summary>Slots ever written (a read that failed may have written the slot after the last record).</summary>
        public int Written;
        public ExceptionDispatchInfo? Error;
        public bool End;
    }

    readonly TraceReader _reader;
    readonly BlockingCollection<Batch> _full = new(new ConcurrentQueue<Batch>(), BatchesAhead);
    readonly BlockingCollection<Batch> _free = new(new ConcurrentQueue<Batch>());
    readonly CancellationTokenSource _stop = new();
    readonly ReadAheadThread _producer;
    /// <summary>Held by whichever thread reads the file before the reading thread has taken it over.</summary>
    readonly Lock _handover = new();
    /// <summary>The reading thread has taken the file over: the consumer decodes no more.</summary>
    volatile bool _producing;
    /// <summary>A batch the consumer decoded ended the file or met an error: the reading thread reads nothing.</summary>
    bool _ended;
    readonly ManualResetEventSlim? _producerGate;
    Batch? _current;
    int _next;
    bool _done;

    /// <summary>Starts reading <paramref name="reader"/> at once; it belongs to this read-ahead until <see cref="Dispose"/>, which does not dispose it.</summary>
    public TraceReadAhead(TraceReader reader) : this(reader, null) { }

    /// <summary>For tests: the reading thread starts only once <paramref name="producerGate"/> is set.</summary>
    internal TraceReadAhead(TraceReader reader, ManualResetEventSlim? producerGate)
    {
        _reader = reader;
        _producerGate = producerGate;
        for (int i = 0; i < BatchesAhead + 1; i++) _free.Add(new Batch(BatchRecords));
        _producer = ReadAheadThread.Start(Produce);
    }

    /// <summary>The managed id of the thread reading ahead (for tests).</summary>
    internal int ProducerThreadId => _producer.ThreadId;

    /// <summary>Batches the consumer decoded itself before the reading thread took over (for tests).</summary>
    internal int BatchesDecodedHere { get; private set; }

    /// <summary>Whether the reading thread has taken the file over (for tests).</summary>
    internal bool ReadingThreadTookOver => _producing;

    /// <summary>The next record, as <see cref="TraceReader.Read"/> would give it.</summary>
    public bool Read(out TraceEvent e)
    {
        if (_current == null || _next >= _current.Count)
        {
            var batch = NextBatch();
            if (batch.IsEmpty) { e = default; return false; }
            _next = 0;
        }
        e = _current!.Events[_next++];
        return true;
    }

    /// <summary>
    /// The next records in the file's order, read in place (no record is copied out); empty at the end.
    /// The span is valid until the next call, which recycles it. An error the reader met after them is
    /// thrown by that next call, as <see cref="Read"/> throws it after the records before it.
    /// </summary>
    public ReadOnlySpan<TraceEvent> NextBatch()
    {
        while (true)
        {
            if (_current != null)
            {
                _current.Error?.Throw();
                if (_current.End) _done = true;
                _free.Add(_current);
                _current = null;
            }
            if (_done) return default;
            if (!_producing && DecodeHere() is { } own)
            {
                _current = own;
                _next = own.Count;
                if (own.Count > 0) return own.Events.AsSpan(0, own.Count);
                continue;
            }
            _current = _full.Take();
            _next = _current.Count;
            if (_current.Count > 0) return _current.Events.AsSpan(0, _current.Count);
        }
    }

    /// <summary>
    /// A batch decoded on the consumer's thread while the reading thread is not yet running (null once
    /// it is: it may be reading, and only one thread reads the file).
    /// </summary>
    Batch? DecodeHere()
    {
        if (!_handover.TryEnter()) return null;
        try
        {
            if (_producing) return null;
            // nothing is queued: the reading thread has read nothing yet
            var b = _free.Take();
            Fill(b, FirstBatchRecords);
            if (b.End || b.Error != null) _ended = true;
            BatchesDecodedHere++;
            return b;
        }
        finally { _handover.Exit(); }
    }

    /// <summary>Reads up to <paramref name="limit"/> records into the batch; an error is kept for after them.</summary>
    void Fill(Batch b, int limit)
    {
        (b.Count, b.End, b.Error) = (0, false, null);
        try
        {
            while (b.Count < limit && _reader.Read(out b.Events[b.Count])) b.Count++;
            b.End = b.Count < limit;
        }
        catch (Exception ex) { b.Error = ExceptionDispatchInfo.Capture(ex); }
        b.Written = Math.Max(b.Written, Math.Min(b.Count + 1, limit));
    }

    void Produce()
    {
        var token = _stop.Token;
        try
        {
            _producerGate?.Wait(token);
            lock (_handover)
            {
                _producing = true;
                if (_ended) return;
            }
            int limit = FirstBatchRecords;
            while (true)
            {
                var b = _free.Take(token);
                Fill(b, limit);
                _full.Add(b, token);
                if (b.End || b.Error != null) return;
                limit = Math.Min(2 * limit, BatchRecords);
            }
        }
        catch (OperationCanceledException) { }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _producer.Join();
        // Every batch is in one of the two collections or current now; each goes back with the paths it held cleared.
        if (_current != null) _free.Add(_current);
        while (_full.TryTake(out var b)) _free.Add(b);
        while (_free.TryTake(out var b))
        {
            // only the path strings hold anything the pool must not keep alive
            foreach (ref var e in b.Events.AsSpan(0, b.Written)) e.Path = null;
            Pool.Return(b.Events);
        }
        _current = null;
        _stop.Dispose();
        _full.Dispose();
        _free.Dispose();
    }
}
