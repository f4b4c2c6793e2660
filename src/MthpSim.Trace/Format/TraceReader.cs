using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ZstdSharp;

namespace MthpSim.Trace.Format;

/// <summary>
/// Reads a trace one record at a time, holding one block in memory: a trace of any length streams.
/// Anything that is not a whole, undamaged trace of this version is refused with a
/// <see cref="TraceFormatException"/> naming the byte offset, never read past or guessed at.
/// </summary>
public sealed class TraceReader : IDisposable
{
    readonly Stream _in;
    readonly string _name;
    readonly bool _ownsStream;
    readonly Decompressor _zstd = new();
    readonly long _length;
    byte[] _packed = [];
    byte[] _raw = [];
    int _rawLen, _pos;
    long _offset;              // file offset of the next unread byte
    long _blockOffset;         // file offset of the block being read
    long _blockRecords, _blockRead, _blockPrevTime;
    int _blockPrevPid;
    ulong _blockPrevFault;
    readonly bool _deltas;     // version 2: the pid and a fault's address as deltas
    bool _ended;

    public TraceHeader Header { get; }
    /// <summary>Records returned so far.</summary>
    public long Records { get; private set; }

    public TraceReader(Stream input, string name, bool ownsStream = false)
    {
        _in = input;
        _name = name;
        _ownsStream = ownsStream;
        _length = input.CanSeek ? input.Length : long.MaxValue;
        Span<byte> pre = stackalloc byte[TraceFile.PreambleBytes];
        if (ReadFully(pre) < 8 || !pre[..8].SequenceEqual(TraceFile.Magic))
            throw Fail(0, "not an mthpsim trace (no MTHPTRC magic)");
        if (_offset < TraceFile.PreambleBytes) throw Fail(_offset, "truncated in the file header");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(pre[8..]);
        if (version is < TraceFile.OldestVersion or > TraceFile.Version)
            throw Fail(8, $"trace format version {version}; this mthpsim reads versions {TraceFile.OldestVersion} to {TraceFile.Version}");
        _deltas = version >= 2;
        uint textLen = BinaryPrimitives.ReadUInt32LittleEndian(pre[12..]);
        if (textLen > TraceFile.MaxHeaderBytes) throw Fail(12, $"header length {textLen} is not plausible: the file is damaged");
        var text = new byte[textLen];
        Span<byte> crc = stackalloc byte[4];
        if (ReadFully(text) < text.Length || ReadFully(crc) < 4) throw Fail(_offset, "truncated in the file header");
        if (BinaryPrimitives.ReadUInt32LittleEndian(crc) != Crc32C.Of(pre, text))
            throw Fail(0, "file header checksum mismatch: the file is damaged");
        Header = TraceHeader.Decode(text) ?? throw Fail(TraceFile.PreambleBytes, "header is not key=value lines");
    }

    public static TraceReader Open(string path)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try { return new TraceReader(fs, path, ownsStream: true); }
        catch { fs.Dispose(); throw; }
    }

    /// <summary>The next record; false after the end block (a trace that ends without one throws).</summary>
    public bool Read(out TraceEvent e)
    {
        e = default;
        while (_pos >= _rawLen)
        {
            if (_ended) return false;
            if (_blockRead != _blockRecords)
                throw Fail(_blockOffset, $"block holds {_blockRead} records, its header says {_blockRecords}");
            NextBlock();
        }
        var s = _raw.AsSpan(0, _rawLen);
        int start = _pos, pos = _pos;   // a local, so the decoding works in registers
        byte kind = s[pos++];
        var layout = RecordLayout.Of(kind);
        if (layout == 0) throw Corrupt(start, $"unknown record kind {kind}");
        e.Kind = (TraceEventKind)kind;
        bool ok = Varint.TryReadSigned(s, ref pos, out long dt);
        e.Time = _blockPrevTime + dt;
        _blockPrevTime = e.Time;
        ok &= Varint.TryRead(s, ref pos, out ulong pid);
        ok &= Varint.TryReadSigned(s, ref pos, out long dtid);
        if (_deltas)
        {
            e.Pid = _blockPrevPid + (int)Varint.Unzigzag(pid);
            _blockPrevPid = e.Pid;
        }
        else e.Pid = (int)pid;
        e.Tid = (int)(e.Pid + dtid);
        if ((layout & RecordLayout.Slot.Addr) != 0) ok &= Varint.TryRead(s, ref pos, out e.Addr);
        if (_deltas && kind == (byte)TraceEventKind.Fault)
        {
            e.Addr = _blockPrevFault + (ulong)Varint.Unzigzag(e.Addr);
            _blockPrevFault = e.Addr;
        }
        if ((layout & RecordLayout.Slot.Len) != 0) ok &= Varint.TryRead(s, ref pos, out e.Len);
        if ((layout & RecordLayout.Slot.Arg2) != 0) ok &= Varint.TryRead(s, ref pos, out e.Arg2);
        if ((layout & RecordLayout.Slot.Arg3) != 0) ok &= Varint.TryRead(s, ref pos, out e.Arg3);
        if ((layout & RecordLayout.Slot.Arg4) != 0) ok &= Varint.TryRead(s, ref pos, out e.Arg4);
        if ((layout & RecordLayout.Slot.Arg5) != 0) ok &= Varint.TryRead(s, ref pos, out e.Arg5);
        if ((layout & RecordLayout.Slot.Ret) != 0) ok &= Varint.TryReadSigned(s, ref pos, out e.Ret);
        if ((layout & RecordLayout.Slot.Dur) != 0) ok &= Varint.TryReadSigned(s, ref pos, out e.Dur);
        if ((layout & RecordLayout.Slot.Path) != 0 && ok)
        {
            ok = Varint.TryRead(s, ref pos, out ulong n) && n <= TraceFile.MaxPathBytes && (ulong)(s.Length - pos) >= n;
            if (ok && n > 0) { e.Path = Encoding.UTF8.GetString(s.Slice(pos, (int)n)); pos += (int)n; }
        }
        _pos = pos;
        if (!ok) throw Corrupt(start, $"{e.Kind} record runs past its block");
        _blockRead++;
        Records++;
        return true;
    }

    void NextBlock()
    {
        _blockOffset = _offset;
        Span<byte> h = stackalloc byte[TraceFile.BlockHeaderBytes];
        int got = ReadFully(h);
        if (got == 0) throw Fail(_offset, $"truncated: the trace ends after {Records:N0} records without its end block");
        if (got < h.Length) throw Fail(_blockOffset, "truncated in a block header");
        uint packedLen = BinaryPrimitives.ReadUInt32LittleEndian(h);
        uint rawLen = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
        ulong records = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
        if (packedLen > TraceFile.MaxBlockBytes || rawLen > TraceFile.MaxBlockBytes || (packedLen != 0 && records > rawLen) || (packedLen == 0 && rawLen != 0))
            throw Fail(_blockOffset, "block header is not plausible: the file is damaged");
        if (_blockOffset + TraceFile.BlockHeaderBytes + packedLen > _length)
            throw Fail(_blockOffset, $"truncated: the block here needs {packedLen} bytes, the file ends at byte {_length}");
        if (_packed.Length < packedLen) Grow(ref _packed, packedLen);
        var packed = _packed.AsSpan(0, (int)packedLen);
        if (ReadFully(packed) < packed.Length) throw Fail(_blockOffset, "truncated in a block");
        if (Crc32C.Of(h[..16], packed) != crc) throw Fail(_blockOffset, "block checksum mismatch: the file is damaged");
        if (packedLen == 0)
        {
            if (records != (ulong)Records) throw Fail(_blockOffset, $"end block counts {records} records, the blocks hold {Records}");
            if (_in.ReadByte() >= 0) throw Fail(_offset, "bytes after the end block");
            _ended = true;
            _rawLen = _pos = 0;
            return;
        }
        if (_raw.Length < rawLen) Grow(ref _raw, rawLen);
        int n;
        try { n = _zstd.Unwrap(packed, _raw.AsSpan(0, (int)rawLen)); }
        catch (ZstdException ex) { throw Fail(_blockOffset, $"block does not decompress ({ex.Message})"); }
        if (n != rawLen) throw Fail(_blockOffset, $"block decompresses to {n} bytes, its header says {rawLen}");
        _rawLen = (int)rawLen;
        _pos = 0;
        _blockRecords = (long)records;
        _blockRead = 0;
        (_blockPrevTime, _blockPrevPid, _blockPrevFault) = (0, 0, 0);
    }

    // Block buffers come from the shared pool: fresh ones per trace were zeroed and faulted in by the
    // host each time, a fixed cost of every replay.
    static void Grow(ref byte[] buffer, uint length)
    {
        GiveBack(ref buffer);
        buffer = ArrayPool<byte>.Shared.Rent((int)length);
    }

    static void GiveBack(ref byte[] buffer)
    {
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        buffer = [];
    }

    int ReadFully(Span<byte> buf)
    {
        int total = 0;
        while (total < buf.Length)
        {
            int n = _in.Read(buf[total..]);
            if (n == 0) break;
            total += n;
        }
        _offset += total;
        return total;
    }

    TraceFormatException Fail(long offset, string problem) => new(_name, offset, problem);

    TraceFormatException Corrupt(int rawPos, string problem) =>
        Fail(_blockOffset, $"{problem} (record {_blockRead + 1} of the block, byte {rawPos} of its contents)");

    public void Dispose()
    {
        GiveBack(ref _packed);
        GiveBack(ref _raw);
        _zstd.Dispose();
        if (_ownsStream) _in.Dispose();
    }
}
