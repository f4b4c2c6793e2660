namespace MthpSim.Trace.Format;

/// <summary>Constants of the file layout (docs/trace-format.md).</summary>
static class TraceFile
{
    /// <summary>The first eight bytes of every trace.</summary>
    public static ReadOnlySpan<byte> Magic => "MTHPTRC\n"u8;
    /// <summary>The version written. Version 2 gives the pid, and a fault's address, as deltas within the block.</summary>
    public const uint Version = 2;
    /// <summary>The oldest version still read (version 1: the pid and every address whole).</summary>
    public const uint OldestVersion = 1;
    /// <summary>Magic, version, header length.</summary>
    public const int PreambleBytes = 16;
    /// <summary>Compressed length, raw length, record count, CRC-32C.</summary>
    public const int BlockHeaderBytes = 20;
    /// <summary>Records are gathered into blocks of about this many raw bytes before compression.</summary>
    public const int BlockRawBytes = 256 * 1024;
    /// <summary>The first block's size; each next block is twice the one before, up to <see cref="BlockRawBytes"/>, so a reader has its first records after decompressing a small block.</summary>
    public const int FirstBlockRawBytes = 4 * 1024;
    /// <summary>A reader refuses blocks or headers claiming more than this (a damaged length field).</summary>
    public const int MaxBlockBytes = 16 * 1024 * 1024;
    public const int MaxHeaderBytes = 1024 * 1024;
    /// <summary>Longest path a record may carry (PATH_MAX).</summary>
    public const int MaxPathBytes = 4096;
}
