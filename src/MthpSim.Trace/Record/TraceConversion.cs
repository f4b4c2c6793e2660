using MthpSim.Trace.Format;

namespace MthpSim.Trace.Record;

/// <summary>perf script text in, a trace file out: the converter feeding a writer, with what it could not read.</summary>
public static class TraceConversion
{
    public sealed record Outcome(long Lines, long Records, long Unparsed, string? FirstUnparsed, long ExitsWithoutEnter, long LostEvents);

    /// <summary>The header of a trace recorded on this machine: its architecture and page size, the clock perf used.</summary>
    public static TraceHeader HostHeader()
    {
        var h = new TraceHeader
        {
            ["arch"] = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
            {
                System.Runtime.InteropServices.Architecture.X64 => "x86_64",
                System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
                var a => a.ToString().ToLowerInvariant(),
            },
            ["page"] = Environment.SystemPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["clock"] = "CLOCK_MONOTONIC",
        };
        return h;
    }

    /// <summary>Size of a file of this machine, for the trace's FILE records; null when it is gone.</summary>
    public static long? FileSizeOnHost(string path)
    {
        try { var fi = new FileInfo(path); return fi.Exists ? fi.Length : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return null; }
    }

    public static Outcome Convert(TextReader perfScript, TraceWriter writer, IEnumerable<string>? dropImages = null, Func<string, long?>? fileSize = null)
    {
        var c = new PerfScriptConverter(e => writer.Write(e), fileSize ?? FileSizeOnHost, dropImages);
        while (perfScript.ReadLine() is { } line) c.Line(line);
        c.Finish();
        writer.Complete();
        return new Outcome(c.Lines, writer.Records, c.Unparsed, c.FirstUnparsed, c.ExitsWithoutEnter, c.LostEvents);
    }
}
