using System.Buffers.Binary;
using System.Text;
using ZstdSharp;

namespace MthpSim.Trace.Format;

/// <summary>
/// Writes a trace: the header, then records gathered into zstd-compressed blocks with a CRC each, then
/// an end block carrying the total record count. Only <see cref="Complete"/> writes the end block, so
/// a writer abandoned half way leaves a file every reader refuses as truncated.
/// </summary>
public sealed class TraceWriter : IDisposable
{
    readonly Stream _out;
    readonly bool _ownsStream;
    readonly Compressor _zstd;
    byte[] _raw = new byte[TraceFile.BlockRawBytes + 64 * 1024];
    int _pos;
    int _blockTarget = TraceFile.FirstBlockRawBytes;
    long _blockRecords, _blockPrevTime;
    int _blockPrevPid;
    ulong _blockPrevFault;
    bool _completed;

    public long Records { get; private set; }

    public TraceWriter(Stream output, TraceHeader header, int level = 10, bool ownsStream = false)
    {
        _out = output;
        _ownsStream = ownsStream;
        _zstd = new Compressor(level);
        byte[] text = header.Encode();
        Span<byte> pre = stackalloc byte[TraceFile.PreambleBytes];
        TraceFile.Magic.CopyTo(pre);
        BinaryPrimitives.WriteUInt32LittleEndian(pre[8..], TraceFile.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(pre[12..], (uint)text.Length);
        _out.Write(pre);
        _out.Write(text);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32C.Of(pre, text));
        _out.Write(crc);
    }

    public static TraceWriter Create(string path, TraceHeader header) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), header, ownsStream: true);

    public void Write(in TraceEvent e)
    {
        if (_completed) throw new InvalidOperationException("trace already completed");
        var layout = RecordLayout.Of((byte)e.Kind);
        if (layout == 0) throw new ArgumentException($"unknown record kind {e.Kind}");
        int pathBytes = e.Path is null ? 0 : Encoding.UTF8.GetByteCount(e.Path);
        if (pathBytes > TraceFile.MaxPathBytes) throw new ArgumentException($"path longer than {TraceFile.MaxPathBytes} bytes");
        int need = 1 + 12 * Varint.MaxBytes + pathBytes;
        if (_raw.Length - _pos < need) Array.Resize(ref _raw, _raw.Length + need);
        var s = _raw.AsSpan();
        s[_pos++] = (byte)e.Kind;
        Varint.WriteSigned(s, ref _pos, e.Time - _blockPrevTime);
        _blockPrevTime = e.Time;
        Varint.WriteSigned(s, ref _pos, (long)e.Pid - _blockPrevPid);
        _blockPrevPid = e.Pid;
        Varint.WriteSigned(s, ref _pos, (long)e.Tid - e.Pid);
        if (e.Kind == TraceEventKind.Fault)
        {
            // the next fault is mostly a page or a few away
            Varint.WriteSigned(s, ref _pos, (long)(e.Addr - _blockPrevFault));
            _blockPrevFault = e.Addr;
        }
        else if ((layout & RecordLayout.Slot.Addr) != 0) Varint.Write(s, ref _pos, e.Addr);
        if ((layout & RecordLayout.Slot.Len) != 0) Varint.Write(s, ref _pos, e.Len);
        if ((layout & RecordLayout.Slot.Arg2) != 0) Varint.Write(s, ref _pos, e.Arg2);
        if ((layout & RecordLayout.Slot.Arg3) != 0) Varint.Write(s, ref _pos, e.Arg3);
        if ((layout & RecordLayout.Slot.Arg4) != 0) Varint.Write(s, ref _pos, e.Arg4);
        if ((layout & RecordLayout.Slot.Arg5) != 0) Varint.Write(s, ref _pos, e.Arg5);
        if ((layout & RecordLayout.Slot.Ret) != 0) Varint.WriteSigned(s, ref _pos, e.Ret);
        if ((layout & RecordLayout.Slot.Dur) != 0) Varint.WriteSigned(s, ref _pos, e.Dur);
        if ((layout & RecordLayout.Slot.Path) != 0)
        {
            Varint.Write(s, ref _pos, (ulong)pathBytes);
            if (pathBytes > 0) _pos += Encoding.UTF8.GetBytes(e.Path, s[_pos..]);
        }
        _blockRecords++;
        Records++;
        if (_pos >= _blockTarget) FlushBlock();
    }

    void FlushBlock()
    {
        if (_blockRecords == 0) return;
        byte[] packed = _zstd.Wrap(_raw.AsSpan(0, _pos)).ToArray();
        WriteBlockHeader(packed.Length, _pos, _blockRecords, packed);
        _out.Write(packed);
        _pos = 0;
        _blockRecords = 0;
        (_blockPrevTime, _blockPrevPid, _blockPrevFault) = (0, 0, 0);
        _blockTarget = Math.Min(2 * _blockTarget, TraceFile.BlockRawBytes);
    }

    void WriteBlockHeader(int packedLen, int rawLen, long records, ReadOnlySpan<byte> payload)
    {
        Span<byte> h = stackalloc byte[TraceFile.BlockHeaderBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)packedLen);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)rawLen);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], (ulong)records);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], Crc32C.Of(h[..16], payload));
        _out.Write(h);
    }

    /// <summary>Writes what is buffered and the end block; the file is whole after this.</summary>
    public void Complete()
    {
        if (_completed) return;
        FlushBlock();
        WriteBlockHeader(0, 0, Records, default);
        _out.Flush();
        _completed = true;
    }

    public void Dispose()
    {
        _zstd.Dispose();
        if (_ownsStream) _out.Dispose();
    }
}
